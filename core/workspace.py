"""Finding and creating a knowledge base, its paths, names and the single-writer lock."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tacit.core import config as config_module
from tacit.core.errors import LockBusy, NotAKnowledgeBase, TacitError, UnsafeName
from tacit.core.fileio import atomic_write, ensure_dir

ENV_VAR = "TACIT_KB"
LOCK_TIMEOUT_S = float(os.environ.get("TACIT_LOCK_TIMEOUT", "5"))

# Set by the CLI's --kb option; read by current(). Resolved late, never at import.
_override: Path | None = None


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: config_module.Config = field(compare=False)

    @property
    def experts_dir(self) -> Path:
        return self.root / "experts"

    @property
    def sessions_dir(self) -> Path:
        return self.root / "sessions"

    @property
    def packs_dir(self) -> Path:
        return self.root / "packs"

    @property
    def guides_dir(self) -> Path:
        return self.root / "guides"

    @property
    def cache_dir(self) -> Path:
        return self.root / ".tacit"

    @property
    def questions_log(self) -> Path:
        return self.root / "questions.jsonl"

    def session_dir(self, session_id: str) -> Path:
        return self.sessions_dir / safe_name(session_id, "session id")

    def inside(self, path: Path) -> bool:
        """True when path resolves inside the knowledge base."""
        try:
            Path(path).resolve().relative_to(self.root.resolve())
        except ValueError:
            return False
        return True


def set_override(path: Path | None) -> None:
    global _override
    _override = Path(path) if path else None


def _is_kb(path: Path) -> bool:
    return (path / config_module.CONFIG_NAME).is_file()


def find_root(start: Path | None = None) -> Path:
    """--kb, then $TACIT_KB, then walk up from the current folder to a tacit.toml."""
    for given, source in ((_override, "--kb"), (os.environ.get(ENV_VAR), f"${ENV_VAR}")):
        if given:
            path = Path(given).expanduser().resolve()
            if not _is_kb(path):
                raise NotAKnowledgeBase(
                    f"{source} points to {path}, which is not a tacit knowledge base "
                    f"(no {config_module.CONFIG_NAME}); create one with: tacit init {path}"
                )
            return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_kb(folder):
            return folder
    raise NotAKnowledgeBase(
        "not inside a tacit knowledge base; create one with `tacit init PATH`, "
        f"or point to one with --kb PATH or ${ENV_VAR}"
    )


def current() -> Workspace:
    root = find_root()
    return Workspace(root=root, config=config_module.load(root / config_module.CONFIG_NAME))


def init(path: Path, name: str | None = None) -> Workspace:
    """Create a knowledge base: folders 0700, files 0600. Refuses to overwrite one."""
    os.umask(0o077)
    path = Path(path).expanduser().resolve()
    if _is_kb(path):
        raise TacitError(f"{path} is already a tacit knowledge base")
    if path.exists() and not path.is_dir():
        raise TacitError(f"{path} exists and is not a folder")
    ensure_dir(path)
    os.chmod(path, 0o700)
    for sub in ("experts", "sessions", "packs", ".tacit"):
        ensure_dir(path / sub)
    kb_name = " ".join((name or path.name).split())[:200] or path.name
    # a TOML basic string: JSON's escapes are TOML's, so any name reads back as written
    atomic_write(
        path / config_module.CONFIG_NAME,
        config_module.template(kb_name),
    )
    return Workspace(root=path, config=config_module.load(path / config_module.CONFIG_NAME))


# Two locks. The records lock guards the plain files (sessions, experts, guides, packs); the
# index lock guards what `tacit index` builds under .tacit/ (Chroma, BM25, the manifest).
# Writers of records that leave the index to the next `tacit index` (interviews, observations,
# experts, imports, transcription) take the records lock only, so they run while `tacit index`
# does; `tacit index` takes the index lock only (it reads records, each written atomically);
# everything that changes both (forget, consent, redact, backup, packs...) takes both, always
# records first, so two commands can never wait for each other.
RECORDS_LOCK, INDEX_LOCK = "lock", "index.lock"
_WHAT = {RECORDS_LOCK: "the records of", INDEX_LOCK: "the index of"}


def _holder() -> str:
    """The running command, e.g. `tacit index`, for another command's wait message."""
    try:
        import click

        return f"`{click.get_current_context().command_path}`"
    except (ImportError, RuntimeError):
        return "another tacit command"


@contextlib.contextmanager
def _lock(ws: Workspace, name: str, timeout: float | None) -> Iterator[None]:
    from filelock import FileLock, Timeout

    os.umask(0o077)
    ensure_dir(ws.cache_dir)
    lock = FileLock(str(ws.cache_dir / name), mode=0o600)
    holder = ws.cache_dir / f"{name}.holder"
    wait = LOCK_TIMEOUT_S if timeout is None else timeout
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        try:
            who = holder.read_text(encoding="utf-8").strip()[:200] or "another tacit command"
        except OSError:
            who = "another tacit command"
        raise LockBusy(
            f"{who} is changing {_WHAT[name]} {ws.root} (waited {wait:g} s for it); "
            "try again when it ends"
        ) from None
    try:
        with contextlib.suppress(OSError):
            atomic_write(holder, f"{_holder()} (pid {os.getpid()})\n")
        yield
    finally:
        with contextlib.suppress(OSError):
            holder.unlink()
        lock.release()


@contextlib.contextmanager
def records_lock(ws: Workspace, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock on the plain files only: for writers that do not touch the index."""
    with _lock(ws, RECORDS_LOCK, timeout):
        yield


@contextlib.contextmanager
def index_lock(ws: Workspace, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock on the index only: `tacit index` (it reads records, never writes them)."""
    with _lock(ws, INDEX_LOCK, timeout):
        yield


_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def slugify(text: str) -> str:
    """'María López' -> 'maria-lopez', 'Søren Ærø' -> 'soren-aero', 'Ольга Петрова' ->
    'olga-petrova' (python-slugify transliterates). A comma parts words as before, so every
    ASCII name keeps the slug it had ('3,6' is '3-6', where the library would join it)."""
    from slugify import slugify as transliterated

    slug = transliterated(text.replace(",", " "), max_length=80, word_boundary=False)
    return _SLUG_STRIP.sub("-", slug).strip("-")


def safe_name(name: str, what: str = "name") -> str:
    """Refuse names that could leave their folder (../, slashes, hidden files, empty)."""
    if not isinstance(name, str) or not _SAFE.match(name) or ".." in name:
        raise UnsafeName(
            f"unsafe {what} {name!r}: use letters, digits, '.', '-' and '_' only (no '/' or '..')"
        )
    return name
