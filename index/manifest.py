"""The index manifest (.tacit/manifest.json): what the index was built from, written last."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.core.errors import IndexMismatch
from tacit.core.fileio import atomic_write

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace
    from tacit.index.chunker import Chunk

MANIFEST_NAME = "manifest.json"
REBUILD_HINT = "run `tacit index --rebuild` to re-embed everything (the plain files are untouched)"


@dataclass(frozen=True)
class Manifest:
    model: str  # model identity: name@fingerprint of the weights
    model_path: str
    dimension: int
    chunker_version: int
    redaction: str  # fingerprint of the redaction settings the chunk text was masked with
    chunk_words: int
    store: str  # "embedded" or the Chroma server's URL
    indexed_at: str
    lexical_digest: str
    chunks: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> {hash, session}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def without_session(self, session_id: str) -> Manifest:
        kept = {k: v for k, v in self.chunks.items() if v.get("session") != session_id}
        return replace(self, chunks=kept)

    @property
    def sessions(self) -> set[str]:
        return {entry["session"] for entry in self.chunks.values()}


def path(ws: Workspace) -> Path:
    return ws.cache_dir / MANIFEST_NAME


def entries(chunks: list[Chunk]) -> dict[str, dict[str, str]]:
    return {c.id: {"hash": c.content_hash, "session": c.session} for c in chunks}


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def load(ws: Workspace) -> Manifest | None:
    """The manifest, or None when there is none or it cannot be read (the index is a cache)."""
    try:
        data = json.loads(path(ws).read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None


def save(ws: Workspace, manifest: Manifest) -> None:
    atomic_write(path(ws), json.dumps(manifest.to_json(), ensure_ascii=False))


def check_compatible(found: Manifest | None, model_id: str, chunker_version: int) -> None:
    """Refuse to mix vectors of two models or chunks of two chunkers."""
    if found is None:
        return
    if found.model != model_id:
        raise IndexMismatch(
            f"the index was built with embedding model {found.model}, "
            f"but tacit.toml now gives {model_id}; vectors of two models cannot be mixed",
            hint=REBUILD_HINT,
        )
    if found.chunker_version != chunker_version:
        raise IndexMismatch(
            f"the index was built by chunker version {found.chunker_version}, "
            f"this tacit chunks with version {chunker_version}",
            hint=REBUILD_HINT,
        )
