"""Every test gets its own empty knowledge base and $TACIT_KB; `run` drives the CLI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ["COLUMNS"] = "100"
os.environ["NO_COLOR"] = "1"
os.environ["TERM"] = "dumb"

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def kb(tmp_path, monkeypatch):
    """An empty knowledge base in a temp folder, found through $TACIT_KB."""
    from tacit.core import workspace

    root = tmp_path / "kb"
    ws = workspace.init(root, "test kb")
    monkeypatch.setenv("TACIT_KB", str(root))
    monkeypatch.setenv("TACIT_LOCK_TIMEOUT", "1")
    workspace.set_override(None)
    yield ws
    workspace.set_override(None)


class Result:
    def __init__(self, result):
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.output = result.output
        self.exception = result.exception

    def __repr__(self) -> str:
        return (
            f"<exit {self.exit_code} stdout={self.stdout[-500:]!r} stderr={self.stderr[-800:]!r}>"
        )


@pytest.fixture
def run():
    """run('expert', 'list', '--json') -> Result with exit_code, stdout, stderr."""
    from tacit.cli import app

    runner = CliRunner()

    def _run(*args: str, input: str | None = None) -> Result:
        return Result(
            runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=True)
        )

    return _run


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is not installed; run `make setup`")
    return path


def _refused(result, *parts: str) -> str:
    """Exit 1, one line on stderr holding each part, no traceback."""
    assert result.exit_code == 1, result
    assert "Traceback" not in result.output, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: "), result
    assert len(lines) <= 2, result  # the message, and at most a hint
    for part in parts:
        assert part in lines[0], (part, result)
    return lines[0]


@pytest.fixture
def maria(kb, run):
    """A KB with the expert Maria Lopez and the small guide."""
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    (kb.root / "guides").mkdir(mode=0o700, exist_ok=True)
    shutil.copy(FIXTURES / "guides" / "small.md", kb.guides_dir / "small.md")
    return kb
