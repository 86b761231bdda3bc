"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidates, fused by scaled scores.

A Retriever keeps the embedding model, the Chroma client and the lexical index loaded across
searches (`ask --file` and `chat` ask many questions), and picks up a lexical index that a
concurrent `tacit index` rebuilt. It never takes the writer lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tacit.errors import TacitError, UsageError
from tacit.index.chunker import CHUNKER_VERSION, Chunk

if TYPE_CHECKING:
    from tacit.index.embedder import Embedder
    from tacit.index.lexical import LexicalIndex
    from tacit.index.store import ChromaStore
    from tacit.workspace import Workspace

METHODS = ("hybrid", "dense", "lexical")
# Hybrid fusion: each stage's scores min-max scaled over its candidates, then averaged with
# this weight on the dense side. Measured on benchmarks/eval (345 questions, 90-word chunks):
# hit@1 / hit@5 / MRR@10 = 0.620 / 0.841 / 0.711, against 0.600 / 0.841 / 0.704 for reciprocal
# rank fusion at k=10 and 0.600 / 0.806 / 0.695 at the usual k=60; dense weights 0.4 and 0.6 did
# no better. With 60-, 130- and 180-word chunks it also led on hit@1 (+3 points) and MRR, with
# hit@5 within 0.015 of rank fusion at k=10 either way.
DENSE_WEIGHT = 0.5
OVERFETCH = 4  # candidates per stage: k times this, at least MIN_CANDIDATES
MIN_CANDIDATES = 40
POSTFILTER_WIDTH = 3  # unfiltered candidates fetched per wanted one before filtering here
POSTFILTER_MAX = 2000  # widest unfiltered net before Chroma's (slow) where clause


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # hybrid: fused score in 0..1; dense: cosine; lexical: BM25. Higher is better.
    dense_score: float | None  # cosine similarity, when the dense stage found it
    lexical_score: float | None  # BM25 score, when the lexical stage found it


@dataclass(frozen=True)
class Filters:
    expert: str | None = None
    kind: str | None = None
    session: str | None = None
    include_restricted: bool = False

    def allows(self, chunk: Chunk) -> bool:
        return (
            (not self.expert or chunk.expert == self.expert)
            and (not self.kind or chunk.kind == self.kind)
            and (not self.session or chunk.session == self.session)
            and (self.include_restricted or not chunk.restricted)
        )


@dataclass
class _Fused:
    chunk: Chunk
    score: float = 0.0
    dense: float | None = None
    lexical: float | None = None


class Retriever:
    """Searches one knowledge base; loads models and stores on first use and keeps them."""

    def __init__(self, ws: Workspace, embedder: Embedder | None = None):
        self.ws = ws
        self.embedder = embedder
        self._store: ChromaStore | None = None
        self._lexical: LexicalIndex | None = None
        self._checked = False
        self._stamp: int | None = None  # the manifest's mtime when the store was opened
        self._total: int | None = None  # chunks in the store, counted once per opening

    def _model(self) -> Embedder:
        from tacit.index import embedder as embedder_module
        from tacit.index import manifest

        if self.embedder is None:
            self.embedder = embedder_module.for_workspace(self.ws)
        if not self._checked:
            found = manifest.load(self.ws)
            if found is None and not self._vectors_exist():
                raise TacitError("this knowledge base has no index yet", hint="run `tacit index`")
            manifest.check_compatible(found, self.embedder.model_id, CHUNKER_VERSION)
            self._checked = True
        return self.embedder

    def _vectors_exist(self) -> bool:
        from tacit.index import store

        return bool(store.server_url(self.ws)) or store.index_dir(self.ws).exists()

    def _follow_reindex(self) -> None:
        """After another process re-indexed (the manifest changed), reopen the store and check
        the model again: a rebuilt embedded store is a new folder."""
        from tacit.index import manifest

        try:
            stamp = manifest.path(self.ws).stat().st_mtime_ns
        except OSError:
            stamp = None
        if stamp != self._stamp:
            if self._store is not None:
                self._store.close(drop=True)
                self._store = None
            self._checked = False
            self._total = None
            self._stamp = stamp

    def _vectors(self) -> ChromaStore:
        from tacit.index import store

        if self._store is None:
            self._store = store.ChromaStore(self.ws)
        return self._store

    def _lexical_index(self) -> LexicalIndex | None:
        from tacit.index.lexical import LexicalIndex

        if self._lexical is None or not self._lexical.current(self.ws):
            self._lexical = LexicalIndex.load(self.ws)
        return self._lexical

    def warm(self) -> None:
        """Load the model, open the store and the lexical index now (before a chat starts)."""
        self._follow_reindex()
        self._model().embed(["warm up"])
        self._vectors().count()
        self._lexical_index()

    def dense(self, query: str, n: int, filters: Filters) -> list[tuple[Chunk, float]]:
        """(chunk, cosine similarity) of the n nearest chunks that the filters allow."""
        vector = self._model().embed([query])[0]
        try:
            return self.dense_vector(vector, n, filters)
        except TacitError:
            raise
        except Exception:  # noqa: BLE001  (a concurrent rebuild may have swapped the store)
            if self._store is not None:
                self._store.close(drop=True)
            self._store = None
        try:
            return self.dense_vector(vector, n, filters)
        except TacitError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise TacitError(
                f"the vector index cannot be read ({type(exc).__name__}: {exc})"[:300],
                hint="if `tacit index` is running, wait for it; else run `tacit index`",
            ) from None

    def dense_vector(self, vector: Any, n: int, filters: Filters) -> list[tuple[Chunk, float]]:
        """Nearest allowed chunks to a query vector.

        Chroma answers a where clause slowly (measured at 100,000 chunks: "not restricted"
        ~50x, one expert of seven ~150x a bare query), so the store is asked for ids only,
        unfiltered, and the chunks are looked up and filtered here in memory (the lexical
        index holds every chunk). The net widens until enough pass; only a filter that
        almost nothing passes goes to Chroma's where clause."""
        from tacit.index import store

        vectors = self._vectors()
        if self._total is None:
            self._total = vectors.count()
        known = self._known_chunks()
        wide = max(n * POSTFILTER_WIDTH, MIN_CANDIDATES)
        while True:
            found = vectors.nearest(vector, min(wide, self._total))
            missing = [i for i, _ in found if i not in known]
            if missing:  # no lexical index here (a shared server), or it lags the store
                known = {**known, **vectors.chunks(missing)}
            allowed = [(known[i], s) for i, s in found if i in known and filters.allows(known[i])]
            if len(allowed) >= n or wide >= self._total:
                return allowed[:n]
            if wide >= POSTFILTER_MAX:
                break
            wide *= 4
        clause = store.where(
            filters.expert, filters.kind, filters.session, filters.include_restricted
        )
        return vectors.query(vector, n, clause)

    def lexical(self, query: str, n: int, filters: Filters) -> list[tuple[Chunk, float]]:
        self._model()  # the same index checks as the dense stage
        index = self._lexical_index()
        return index.search(query, n, filters.allows) if index is not None else []

    def search(
        self, query: str, k: int = 10, filters: Filters = Filters(), method: str = "hybrid"
    ) -> list[Hit]:
        """The k best chunks for a question; restricted ones only when the filters allow."""
        if method not in METHODS:
            raise UsageError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        if not query.strip() or k <= 0:
            return []
        self._follow_reindex()
        from tacit.intents import hiding  # a forget in progress: its sessions are never shown

        filters = hiding(self.ws, filters)
        n = max(k * OVERFETCH, MIN_CANDIDATES)
        dense = self.dense(query, n, filters) if method != "lexical" else []
        lexical = self.lexical(query, n, filters) if method != "dense" else []
        if method == "dense":
            return [Hit(c, s, s, None) for c, s in dense[:k]]
        if method == "lexical":
            return [Hit(c, s, None, s) for c, s in lexical[:k]]
        return fuse(dense, lexical, k, self._known_chunks())

    def _known_chunks(self) -> dict[str, Chunk]:
        index = self._lexical_index()
        return index.by_id if index is not None else {}

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _scaled(ranked: list[tuple[Chunk, float]]) -> list[tuple[Chunk, float, float]]:
    """(chunk, raw score, score scaled to 0..1 over the list); a lone or tied best is 1."""
    if not ranked:
        return []
    low, high = min(s for _, s in ranked), max(s for _, s in ranked)
    span = high - low
    return [(c, s, (s - low) / span if span > 0 else 1.0) for c, s in ranked]


def fuse(
    dense: list[tuple[Chunk, float]],
    lexical: list[tuple[Chunk, float]],
    k: int,
    known: dict[str, Any] | None = None,
) -> list[Hit]:
    """Min-max fusion of the two stages: each chunk scores the weighted sum of its scaled
    scores (0 from a stage that did not find it)."""
    fused: dict[str, _Fused] = {}
    for chunk, similarity, scaled in _scaled(dense):
        entry = fused.setdefault(chunk.id, _Fused((known or {}).get(chunk.id, chunk)))
        entry.score += DENSE_WEIGHT * scaled
        entry.dense = similarity
    for chunk, score, scaled in _scaled(lexical):
        entry = fused.setdefault(chunk.id, _Fused(chunk))
        entry.score += (1.0 - DENSE_WEIGHT) * scaled
        entry.lexical = score
    best = sorted(fused.values(), key=lambda e: e.score, reverse=True)[:k]
    return [Hit(e.chunk, e.score, e.dense, e.lexical) for e in best]
