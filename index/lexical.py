"""The lexical index: BM25 (bm25s) over chunk text, for exact names, part numbers and jargon.

bm25s cannot delete a document, and building it is fast, so it is rebuilt whole whenever the
set of chunks changes. It is built in a new folder and swapped in by rename: a reader or a
crash never sees half an index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.index.chunker import Chunk

if TYPE_CHECKING:
    from tacit.workspace import Workspace

CHUNKS_NAME = "chunks.jsonl"
META_NAME = "meta.json"


def lexical_dir(ws: Workspace) -> Path:
    return ws.cache_dir / "lexical"


def digest(ids: Iterable[str]) -> str:
    """Names a set of chunk ids: tells whether the lexical index matches the chunks."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, lower=True, stopwords="en", return_ids=False, show_progress=False)


def build(ws: Workspace, chunks: list[Chunk]) -> None:
    """Write the index for exactly these chunks, replacing the old one in one rename."""
    os.umask(0o077)
    target = lexical_dir(ws)
    fresh = target.with_name(f"lexical.new-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(mode=0o700, parents=True)
    if chunks:
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index(tokenize([c.text for c in chunks]), show_progress=False)
        bm25.save(str(fresh), show_progress=False)
    with open(fresh / CHUNKS_NAME, "w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(json.dumps(chunk.to_json(), ensure_ascii=False) + "\n")
    meta = {"digest": digest(c.id for c in chunks), "count": len(chunks)}
    (fresh / META_NAME).write_text(json.dumps(meta), encoding="utf-8")
    for file in fresh.iterdir():
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())
    if target.exists():
        doomed = target.with_name(f"lexical.deleting-{os.getpid()}")
        os.replace(target, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
    os.replace(fresh, target)


def stored_digest(ws: Workspace) -> str | None:
    try:
        return json.loads((lexical_dir(ws) / META_NAME).read_text(encoding="utf-8"))["digest"]
    except (OSError, ValueError, KeyError):
        return None


def stored_chunks(ws: Workspace) -> list[Chunk]:
    path = lexical_dir(ws) / CHUNKS_NAME
    try:
        with open(path, encoding="utf-8") as handle:
            return [Chunk.from_json(json.loads(line)) for line in handle if line.strip()]
    except (OSError, ValueError, TypeError):
        return []


def clean_leftovers(ws: Workspace) -> None:
    for leftover in ws.cache_dir.glob("lexical.*-*"):
        shutil.rmtree(leftover, ignore_errors=True)


@dataclass
class LexicalIndex:
    chunks: list[Chunk]
    bm25: Any
    stamp: int  # mtime of meta.json when loaded: a change means it was rebuilt
    by_id: dict[str, Chunk] = field(default_factory=dict)

    @classmethod
    def load(cls, ws: Workspace) -> LexicalIndex | None:
        folder = lexical_dir(ws)
        try:
            stamp = (folder / META_NAME).stat().st_mtime_ns
            chunks = stored_chunks(ws)
            bm25 = None
            if chunks:
                import bm25s

                bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        except (OSError, ValueError):
            return None  # missing or mid-swap: the caller goes on without it
        return cls(chunks=chunks, bm25=bm25, stamp=stamp, by_id={c.id: c for c in chunks})

    def current(self, ws: Workspace) -> bool:
        try:
            return (lexical_dir(ws) / META_NAME).stat().st_mtime_ns == self.stamp
        except OSError:
            return False

    def search(
        self, query: str, n: int, allowed: Callable[[Chunk], bool]
    ) -> list[tuple[Chunk, float]]:
        """(chunk, BM25 score) for chunks that match a query word, best first."""
        import numpy as np

        if self.bm25 is None:
            return []
        tokens = [t for t in tokenize([query])[0] if t in self.bm25.vocab_dict]
        if not tokens:
            return []
        scores = np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)
        order = np.argsort(-scores, kind="stable")
        found: list[tuple[Chunk, float]] = []
        for index in order:
            score = float(scores[index])
            if score <= 0 or len(found) >= n:
                break
            chunk = self.chunks[index]
            if allowed(chunk):
                found.append((chunk, score))
        return found
