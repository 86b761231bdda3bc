"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidates, fused by scaled scores.

A Retriever keeps the embedding model, the Chroma client and the lexical index loaded across
searches (`ask --file` and `chat` ask many questions), and picks up a lexical index that a
concurrent `tacit index` rebuilt. It never takes the writer lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tacit.core import intents
from tacit.core.errors import TacitError, UsageError
from tacit.index.chunker import CHUNKER_VERSION, Chunk

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace
    from tacit.index.embedder import Embedder
    from tacit.index.lexical import LexicalIndex
    from tacit.index.store import ChromaStore

METHODS = ("hybrid", "dense", "lexical")
# Hybrid scoring, chosen by measurement on QMSum train (real meetings, other people's
# questions; benchmarks/retrieval_eval.py) and checked on its validation split and on
# benchmarks/eval. Cosines are z-scored over the POOL nearest chunks (a chunk the dense stage
# did not fetch gets the lowest of them), BM25 over every chunk (0 without the words), then:
#   DENSE_WEIGHT   the dense share of the fused score (the rest is BM25);
#   SESSION_WEIGHT times the mean of the session's SESSION_TOP best fused scores is added:
#                  a session that discusses the question at length is the likelier source;
#   SPEAKER_WEIGHT a question that names a speaker ("what did Marketing think") lifts passages
#                  by their share of that speaker's words, and SPEAKER_ABSENT is taken from
#                  sessions where that speaker never speaks.
# On QMSum train (40 meetings) hit@5 went from 0.382 with min-max fusion of two 40-candidate
# pools to 0.443, moment@5 to 0.443.
DENSE_WEIGHT = 0.5
SESSION_WEIGHT = 2.0
SESSION_TOP = 5
SPEAKER_WEIGHT = 2.0
SPEAKER_ABSENT = 3.0
POOL = 200
POSTFILTER_WIDTH = 3  # unfiltered candidates fetched per wanted one before filtering here
POSTFILTER_MAX = 2000  # widest unfiltered net before Chroma's (slow) where clause


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # hybrid: fused z-score; dense: cosine; lexical: BM25. Higher is better.
    dense_score: float | None  # cosine similarity, when the dense stage found it
    lexical_score: float | None  # BM25 score, when the lexical stage found it
    # share of the question's rare-word weight (IDF) that the passage holds word for word
    coverage: float | None = None


@dataclass(frozen=True)
class Filters:
    expert: str | None = None
    kind: str | None = None
    session: str | None = None
    include_restricted: bool = False
    hidden: frozenset[str] = frozenset()  # sessions a pending forget names: never shown

    def allows(self, chunk: Chunk) -> bool:
        return (
            chunk.session not in self.hidden
            and (not self.expert or chunk.expert == self.expert)
            and (not self.kind or chunk.kind == self.kind)
            and (not self.session or chunk.session == self.session)
            and (self.include_restricted or not chunk.restricted)
        )


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
        fetched: dict[str, Chunk] = {}  # chunks the lexical index lacks, read from the store
        wide = max(n * POSTFILTER_WIDTH, POOL)
        while True:
            found = vectors.nearest(vector, min(wide, self._total))
            missing = [i for i, _ in found if i not in known and i not in fetched]
            if missing:  # no lexical index here (a shared server), or it lags the store
                fetched.update(vectors.chunks(missing))
            allowed = []
            for i, score in found:
                chunk = fetched.get(i) or known.get(i)
                if chunk is not None and filters.allows(chunk):
                    allowed.append((chunk, score))
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
        return self._lexical_spread(query, n, filters)[0]

    def _lexical_spread(
        self, query: str, n: int, filters: Filters
    ) -> tuple[list[tuple[Chunk, float]], tuple[float, float]]:
        self._model()  # the same index checks as the dense stage
        index = self._lexical_index()
        if index is None:
            return [], (0.0, 1.0)
        return index.search_spread(query, n, filters.allows)

    def search(
        self, query: str, k: int = 10, filters: Filters = Filters(), method: str = "hybrid"
    ) -> list[Hit]:
        """The k best chunks for a question; restricted ones only when the filters allow."""
        if method not in METHODS:
            raise UsageError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        if not query.strip() or k <= 0:
            return []
        self._follow_reindex()
        hidden = intents.hidden_sessions(self.ws)  # a forget in progress: never shown
        if hidden:
            filters = replace(filters, hidden=filters.hidden | hidden)
        dense = self.dense(query, POOL, filters) if method != "lexical" else []
        lexical, spread = [], (0.0, 1.0)
        if method != "dense":
            lexical, spread = self._lexical_spread(query, POOL, filters)
        index = self._lexical_index()
        cover = index.coverage_of(query) if index is not None else (lambda chunk: None)
        if method == "dense":
            return [Hit(c, s, s, None, cover(c)) for c, s in dense[:k]]
        if method == "lexical":
            return [Hit(c, s, None, s, cover(c)) for c, s in lexical[:k]]
        named = index.speakers_named(query) if index is not None else ()
        known = index.by_id if index is not None else {}
        return fuse(dense, lexical, k, known, named, index, cover, spread)

    def lexicon(self) -> LexicalIndex | None:
        """The lexical index: word weights (IDF) for scoring the sentences of an answer."""
        return self._lexical_index()

    def _known_chunks(self) -> Mapping[str, Chunk]:
        index = self._lexical_index()
        return index.by_id if index is not None else {}

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _zscored(ranked: list[tuple[Chunk, float]]) -> tuple[dict[str, float], float]:
    """Each chunk's score as standard deviations from the pool's mean, and the pool's lowest
    (what a chunk this stage did not find gets)."""
    if not ranked:
        return {}, 0.0
    values = [s for _, s in ranked]
    mean = sum(values) / len(values)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    scored = {c.id: (s - mean) / spread for c, s in ranked}
    return scored, min(scored.values())


def fuse(
    dense: list[tuple[Chunk, float]],
    lexical: list[tuple[Chunk, float]],
    k: int,
    known: dict[str, Any] | None = None,
    named: tuple[str, ...] = (),
    index: LexicalIndex | None = None,
    cover: Any = None,
    spread: tuple[float, float] | None = None,
) -> list[Hit]:
    """Z-score fusion of the two stages, with the session's evidence and a named speaker
    (see the constants above)."""
    known = known or {}
    chunks = {c.id: known.get(c.id, c) for c, _ in dense}
    chunks.update({c.id: c for c, _ in lexical if c.id not in chunks})
    cosine = {c.id: s for c, s in dense}
    bm25 = {c.id: s for c, s in lexical}
    zd, floor_d = _zscored(dense)
    if spread is not None:  # BM25 over every chunk: one that lacks the words scores 0
        mean, deviation = spread
        zl = {c.id: (s - mean) / deviation for c, s in lexical}
        floor_l = -mean / deviation
    else:
        zl, floor_l = _zscored(lexical)
    weight_l = (1.0 - DENSE_WEIGHT) if lexical else 0.0
    score = {i: DENSE_WEIGHT * zd.get(i, floor_d) + weight_l * zl.get(i, floor_l) for i in chunks}
    if named and index is not None:
        present = index.sessions_with_speakers(named)
        for i, chunk in chunks.items():
            share = max(index.speaker_share(chunk, name) for name in named)
            score[i] += SPEAKER_WEIGHT * share - (
                0.0 if chunk.session in present else SPEAKER_ABSENT
            )
    by_session: dict[str, list[float]] = {}
    for i in sorted(score, key=score.__getitem__, reverse=True):
        by_session.setdefault(chunks[i].session, []).append(score[i])
    if score:
        floor = min(score.values())
        prior = {
            s: sum((v + [floor] * SESSION_TOP)[:SESSION_TOP]) / SESSION_TOP
            for s, v in by_session.items()
        }
        score = {i: v + SESSION_WEIGHT * prior[chunks[i].session] for i, v in score.items()}
    best = sorted(score, key=lambda i: (-score[i], i))[:k]
    cover = cover or (lambda chunk: None)
    return [Hit(chunks[i], score[i], cosine.get(i), bm25.get(i), cover(chunks[i])) for i in best]
