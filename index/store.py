"""The vector store: Chroma embedded under .tacit/index, or a Chroma server (chroma_url).

Chroma never embeds here (embedding_function=None; tacit passes vectors). A damaged embedded
store can crash the process that opens it, so its health is probed in a child process.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from tacit.core import intents
from tacit.core.errors import TacitError
from tacit.index.chunker import Chunk

if TYPE_CHECKING:
    import numpy as np

    from tacit.core.workspace import Workspace

COLLECTION = "tacit_chunks"
MODEL_KEY = "tacit_model"
FILTER_FIELDS = ("session", "expert", "kind", "source", "restricted")


class VectorStore(Protocol):
    def describe(self) -> str: ...
    def model(self) -> str | None: ...
    def ensure(self, model_id: str) -> None: ...
    def ids(self) -> set[str]: ...
    def count(self) -> int: ...
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...
    def delete(self, ids: Sequence[str]) -> None: ...
    def nearest(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]: ...
    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]: ...
    def query(
        self, vector: np.ndarray, n: int, where: dict[str, Any] | None
    ) -> list[tuple[Chunk, float]]: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...


def index_dir(ws: Workspace) -> Path:
    return ws.cache_dir / "index"


def server_url(ws: Workspace) -> str:
    return str(ws.config.index["chroma_url"] or "").strip()


def where(
    expert: str | None = None,
    kind: str | None = None,
    session: str | None = None,
    include_restricted: bool = False,
) -> dict[str, Any] | None:
    """A Chroma where clause for the retriever's filters."""
    terms: list[dict[str, Any]] = [
        {key: value}
        for key, value in (("expert", expert), ("kind", kind), ("session", session))
        if value
    ]
    if not include_restricted:
        terms.append({"restricted": False})
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _metadata(chunk: Chunk) -> dict[str, Any]:
    record = chunk.to_json()
    record.pop("text")
    meta = {key: record[key] for key in FILTER_FIELDS}
    meta["content_hash"] = chunk.content_hash
    meta["chunk"] = json.dumps(record, ensure_ascii=False)
    return meta


def _chunk(meta: dict[str, Any], document: str | None) -> Chunk:
    return Chunk.from_json({**json.loads(meta["chunk"]), "text": document or ""})


class ChromaStore:
    """One Chroma collection of chunks, embedded or on a server; opened lazily, kept open."""

    def __init__(self, ws: Workspace):
        self.url = server_url(ws)
        self.path = index_dir(ws)
        self.ws = ws
        self._client: Any = None
        self._col: Any = None

    def describe(self) -> str:
        return f"Chroma server at {self.url}" if self.url else f"embedded Chroma at {self.path}"

    def client(self) -> Any:
        if self._client is None:
            from tacit.core import model_paths

            model_paths.offline()
            import chromadb
            from chromadb.config import Settings

            settings = Settings(anonymized_telemetry=False, allow_reset=True)
            if self.url:
                self._client = _http_client(self.url, settings)
            else:
                os.umask(0o077)  # Chroma creates its files 0644 otherwise
                if not self.path.exists():
                    _drop_system(self.path)  # a store this process had open was removed
                self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(self.path), settings=settings)
        return self._client

    def _collection(self, create_for: str | None = None) -> Any:
        if self._col is None:
            from chromadb.errors import NotFoundError

            try:
                self._col = self.client().get_collection(COLLECTION, embedding_function=None)
            except NotFoundError:
                if create_for is None:
                    return None
                self._col = self.client().create_collection(
                    COLLECTION,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={MODEL_KEY: create_for},
                )
        return self._col

    def model(self) -> str | None:
        col = self._collection()
        return (col.metadata or {}).get(MODEL_KEY) if col is not None else None

    def ensure(self, model_id: str) -> None:
        self._collection(create_for=model_id)

    def batch(self) -> int:
        return max(1, min(int(self.client().get_max_batch_size()), 5000))

    def count(self) -> int:
        col = self._collection()
        return col.count() if col is not None else 0

    def ids(self) -> set[str]:
        col = self._collection()
        found: set[str] = set()
        if col is None:
            return found
        step, offset = self.batch(), 0
        while True:
            page = col.get(include=[], limit=step, offset=offset)["ids"]
            found.update(page)
            if len(page) < step:
                return found
            offset += step

    def hashes(self, where_clause: dict[str, Any] | None = None) -> dict[str, str]:
        """{chunk id: content hash} of the stored chunks that match, text left unread."""
        col = self._collection()
        if col is None:
            return {}
        step, offset, found = self.batch(), 0, {}
        while True:
            page = col.get(where=where_clause, include=["metadatas"], limit=step, offset=offset)
            found.update(
                (i, m.get("content_hash", ""))
                for i, m in zip(page["ids"], page["metadatas"], strict=True)
            )
            if len(page["ids"]) < step:
                return found
            offset += step

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        col = self._collection()
        step = self.batch()
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            col.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[i : i + step],
                documents=[c.text for c in part],
                metadatas=[_metadata(c) for c in part],
            )

    def delete(self, ids: Sequence[str]) -> None:
        col = self._collection()
        if col is None:
            return
        ids = list(ids)
        step = self.batch()
        for i in range(0, len(ids), step):
            col.delete(ids=ids[i : i + step])

    def nearest(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the n nearest, unfiltered: the fast path (ids and
        distances only, no metadata read)."""
        col = self._collection()
        if col is None or n <= 0:
            return []
        result = col.query(query_embeddings=[vector], n_results=n, include=["distances"])
        pairs = zip(result["ids"][0], result["distances"][0], strict=True)
        return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in pairs]

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Stored chunks by id (text and metadata), for ids the caller has no copy of."""
        col = self._collection()
        if col is None or not ids:
            return {}
        got = col.get(ids=list(ids), include=["metadatas", "documents"])
        rows = zip(got["ids"], got["metadatas"], got["documents"], strict=True)
        found = {chunk_id: _chunk(meta, doc) for chunk_id, meta, doc in rows}
        hidden = intents.hidden_sessions(self.ws)  # a forget in progress
        return {i: c for i, c in found.items() if c.session not in hidden}

    def query(
        self, vector: np.ndarray, n: int, where_clause: dict[str, Any] | None
    ) -> list[tuple[Chunk, float]]:
        """(chunk, cosine similarity), best first, filtered by Chroma (slow for broad filters)."""
        col = self._collection()
        if col is None or n <= 0:
            return []
        result = col.query(
            query_embeddings=[vector],
            n_results=n,
            where=where_clause,
            include=["metadatas", "documents", "distances"],
        )
        rows = zip(
            result["metadatas"][0], result["documents"][0], result["distances"][0], strict=True
        )
        hidden = intents.hidden_sessions(self.ws)  # a forget in progress
        found = [(_chunk(meta, doc), 1.0 - float(dist)) for meta, doc, dist in rows]
        return [(chunk, score) for chunk, score in found if chunk.session not in hidden]

    def reset(self) -> None:
        """Drop every vector (a rebuild); the embedded store's folder goes too."""
        if self.url:
            from chromadb.errors import NotFoundError

            with contextlib.suppress(NotFoundError):
                self.client().delete_collection(COLLECTION)
            self._col = None
            return
        self.close(drop=True)
        remove_folder(self.path)

    def close(self, drop: bool = False) -> None:
        """Let go of the client. drop=True also ends every client of this folder in the process:
        Chroma shares one open store per folder, which would keep serving a replaced folder."""
        if self._client is not None and not self.url:
            self._client.close()
        self._client = None
        self._col = None
        if drop and not self.url:
            _drop_system(self.path)


def _drop_system(path: Path) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = SharedSystemClient._identifier_to_system
    system = systems.pop(str(path), None)
    SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    if system is not None:
        # a damaged store may fail to stop; it is going anyway
        with contextlib.suppress(Exception):
            system.stop()


def _http_client(url: str, settings: Any) -> Any:
    import chromadb

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise TacitError(f"chroma_url {url!r} in tacit.toml is not a URL like http://host:8000")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    try:
        return chromadb.HttpClient(
            host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
        )
    except Exception as exc:  # noqa: BLE001  (connection errors come in many types)
        raise TacitError(
            f"cannot reach the Chroma server at {url}: {type(exc).__name__}: {exc}"[:300],
            hint="start it (e.g. `chroma run --path DIR`) or clear chroma_url in tacit.toml",
        ) from None


def remove_folder(path: Path) -> None:
    """Delete a folder; rename first so a crash midway never leaves half a store in place."""
    if not path.exists():
        return
    doomed = path.with_name(f"{path.name}.deleting-{os.getpid()}")
    os.replace(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def clean_leftovers(ws: Workspace) -> None:
    """Folders a killed run left half-deleted."""
    for leftover in ws.cache_dir.glob("*.deleting-*"):
        shutil.rmtree(leftover, ignore_errors=True)
