"""`tacit index`: bring Chroma, the lexical index and the manifest in line with the plain files.

Crash safety: every run reconciles the ids actually in the store with the chunks the files give
(upserts by chunk id, so a repeat never duplicates), embeds through the cache (so vectors
computed before a crash are not computed again), and writes the manifest last.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from tacit.core import faults, intents
from tacit.core.errors import IndexMismatch, TacitError
from tacit.index import chunker, lexical, manifest, store, upkeep
from tacit.index import embedder as embedder_module
from tacit.index.chunker import CHUNKER_VERSION, Chunk

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace
    from tacit.index.embedder import Embedder

STEP = 32  # chunks embedded and stored together: the unit of progress and of crash recovery
KILL_ENV = "TACIT_INDEX_KILL_AT"  # tests: "stage[:n]" SIGKILLs this process the n-th time there

Progress = Callable[[str, int, int], None]  # (what, done, total)
_reached: dict[str, int] = {}


@dataclass(frozen=True)
class IndexReport:
    sessions: int
    chunks: int
    added: int  # chunks written to the vector store this run
    removed: int  # chunks deleted from it
    embedded: int  # texts the model embedded this run (the rest came from the cache)
    cached: int
    rebuilt: bool
    model: str
    store: str
    seconds: float
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict:
        data = asdict(self)
        data["notes"] = list(self.notes)
        return data


def _checkpoint(stage: str) -> None:
    """Test hook for crash safety: die here, as a power cut or `kill -9` would."""
    faults.point(f"index:{stage}")
    wanted = os.environ.get(KILL_ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name == stage:
        _reached[stage] = _reached.get(stage, 0) + 1
        if _reached[stage] >= int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)


def _open_store(ws: Workspace, rebuild: bool, say: Callable[[str], None]) -> tuple:
    """The store, healthy; a damaged embedded store is rebuilt. Returns (store, rebuild)."""
    vectors = store.ChromaStore(ws)
    if not rebuild and not vectors.url and vectors.path.exists():
        healthy, why = upkeep.probe(vectors.path)
        if not healthy:
            say(
                f"the vector index at {vectors.path} could not be read ({why}); "
                "rebuilding it from the plain files"
            )
            rebuild = True
    if rebuild:
        # the intent first, then no manifest: a kill from here on leaves an index that says
        # it is incomplete (`index status`, doctor) and is finished by the next writer
        intents.write(ws, intents.REBUILD, {"started": manifest.now()})
        manifest.path(ws).unlink(missing_ok=True)
        _checkpoint("rebuild-intent")
        vectors.reset()
        _checkpoint("reset")
    return vectors, rebuild


def _embed_and_store(
    ws: Workspace,
    vectors: store.ChromaStore,
    model: Embedder,
    todo: list[Chunk],
    progress: Progress,
) -> tuple[int, int, int]:
    """Embed (cache first) and upsert in steps. Returns (embedded, cached, dimension)."""
    import numpy as np

    cache = embedder_module.EmbeddingCache(ws)
    embedded = cached = dimension = 0
    progress("embedding", 0, len(todo))
    try:
        for i in range(0, len(todo), STEP):
            part = todo[i : i + STEP]
            have = cache.get_many(model.model_id, (c.content_hash for c in part))
            cached += sum(1 for c in part if c.content_hash in have)
            missing = {c.content_hash: c.text for c in part if c.content_hash not in have}
            if missing:
                if not embedded:
                    progress("loading the embedding model", 0, 1)
                    model.dimension  # noqa: B018  (loads the model: seconds, shown as a step)
                    progress("loading the embedding model", 1, 1)
                fresh = model.embed(list(missing.values()))
                cache.put_many(model.model_id, zip(missing, fresh, strict=True))
                have.update(zip(missing, fresh, strict=True))
                embedded += len(missing)
            _checkpoint("embedded")
            matrix = np.stack([have[c.content_hash] for c in part])
            dimension = int(matrix.shape[1])
            vectors.upsert(part, matrix)
            _checkpoint("stored")
            progress("embedding", i + len(part), len(todo))
    finally:
        cache.close()
    return embedded, cached, dimension


def _dimension(ws: Workspace, old: manifest.Manifest | None, model_id: str, chunks: list) -> int:
    if old is not None and old.model == model_id and old.dimension:
        return old.dimension
    cache = embedder_module.EmbeddingCache(ws)
    try:
        sample = cache.get_many(model_id, [c.content_hash for c in chunks[:1]])
    finally:
        cache.close()
    return int(next(iter(sample.values())).shape[0]) if sample else 0


def _sync_vectors(
    vectors: store.ChromaStore,
    ws: Workspace,
    model: Embedder,
    desired: list[Chunk],
    progress: Progress,
) -> tuple[int, int, int, int, int]:
    """Make the store hold exactly the desired chunks: delete the ids no file gives any more,
    upsert the missing ones. Returns (added, removed, embedded, cached, dimension)."""
    stored_model = vectors.model()
    if stored_model and stored_model != model.model_id:
        raise IndexMismatch(
            f"the vector store holds vectors of {stored_model}, "
            f"but tacit.toml now gives {model.model_id}",
            hint=manifest.REBUILD_HINT,
        )
    vectors.ensure(model.model_id)
    existing = vectors.ids()
    stale = sorted(existing - {c.id for c in desired})
    vectors.delete(stale)
    _checkpoint("deleted")
    todo = [c for c in desired if c.id not in existing]
    embedded, cached, dimension = _embed_and_store(ws, vectors, model, todo, progress)
    return len(todo), len(stale), embedded, cached, dimension


def _record(ws, model: Embedder, desired: list[Chunk], dimension: int, url: str) -> None:
    """Drop cached vectors no chunk needs, then write the manifest: always the last step."""
    old = manifest.load(ws)
    cache = embedder_module.EmbeddingCache(ws)
    cache.keep_only(model.model_id, {c.content_hash for c in desired})
    cache.close()
    _checkpoint("manifest")
    manifest.save(
        ws,
        manifest.Manifest(
            model=model.model_id,
            model_path=getattr(model, "path", model.model_id),
            dimension=dimension or _dimension(ws, old, model.model_id, desired),
            chunker_version=CHUNKER_VERSION,
            redaction=_redaction(ws),
            chunk_words=int(ws.config.index["chunk_words"]),
            store=url or "embedded",
            indexed_at=manifest.now(),
            lexical_digest=lexical.digest(c.id for c in desired),
            chunks=manifest.entries(desired),
        ),
    )


def run(
    ws: Workspace,
    rebuild: bool = False,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
    embedder: Embedder | None = None,
) -> IndexReport:
    """Index the knowledge base incrementally (or from nothing with rebuild=True)."""
    started = time.monotonic()
    os.umask(0o077)
    notes: list[str] = []

    def say(text: str) -> None:
        notes.append(text)
        if notify:
            notify(text)

    progress = progress or (lambda *_: None)
    if not rebuild and intents.read(ws, intents.REBUILD) is not None:
        say("a rebuild was interrupted; rebuilding the index from the plain files")
        rebuild = True
    model = embedder or embedder_module.for_workspace(ws)
    before = manifest.load(ws)
    if not rebuild:
        manifest.check_compatible(before, model.model_id, CHUNKER_VERSION)
    store.clean_leftovers(ws)
    lexical.clean_leftovers(ws)
    hidden = intents.hidden_sessions(ws)  # a forget in progress: never indexed again
    desired = [c for c in chunker.chunk_kb(ws) if c.session not in hidden]
    vectors, rebuild = _open_store(ws, rebuild, say)
    try:
        added, removed, embedded, cached, dimension = _sync_vectors(
            vectors, ws, model, desired, progress
        )
    except (TacitError, KeyboardInterrupt):
        raise
    except Exception as exc:
        if not vectors.url:
            raise
        # the server went away midway (httpx.ConnectError and kin): what was stored stays,
        # and the next run carries on from it
        raise TacitError(
            f"lost the Chroma server at {vectors.url} while indexing: {type(exc).__name__}: {exc}"[
                :300
            ],
            hint="start it again, then run `tacit index` (what was stored is kept)",
        ) from None
    finally:
        vectors.close()
    if rebuild or lexical.stored_digest(ws) != lexical.digest(c.id for c in desired):
        progress("lexical index", 0, 1)
        lexical.build(ws, desired)
        progress("lexical index", 1, 1)
    _checkpoint("lexical")
    _record(ws, model, desired, dimension, vectors.url)
    intents.clear(ws, intents.REBUILD)
    _leave_no_stale_text(ws, before, removed and not rebuild and not vectors.url, say)
    return IndexReport(
        sessions=len({c.session for c in desired}),
        chunks=len(desired),
        added=added,
        removed=removed,
        embedded=embedded,
        cached=cached,
        rebuilt=rebuild,
        model=model.model_id,
        store=vectors.describe(),
        seconds=round(time.monotonic() - started, 2),
        notes=tuple(notes),
    )


def _leave_no_stale_text(ws: Workspace, before, compact: bool, say: Callable) -> None:
    """Deleted chunks leave their text in the embedded store's write log (embeddings_queue)
    until Chroma next flushes, and in freed SQLite pages: rebuild the store from the plain
    files (vectors from the cache) in a child that never read it. A change of the redaction
    settings also re-masks the exports beside the records and the question log."""
    from tacit.records import derived

    if before is not None and before.redaction != _redaction(ws):
        say(derived.refresh_derived(ws))
    if compact:
        _checkpoint("compact")
        say(upkeep.vacuum(ws))


def _redaction(ws: Workspace) -> str:
    from tacit.records import redaction

    return redaction.redactor(ws.config).fingerprint


# --- status ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexStatus:
    sessions: int  # sessions in the knowledge base whose consent allows indexing
    indexed_sessions: int
    chunks: int  # chunks in the index (per the manifest)
    model: str  # the model the index was built with
    configured_model: str
    store: str
    last_indexed: str | None
    up_to_date: bool
    new_chunks: int
    removed_chunks: int
    stale_sessions: tuple[str, ...]
    stale: tuple[str, ...]  # one line per reason

    def to_json(self) -> dict:
        data = asdict(self)
        data["stale_sessions"] = list(self.stale_sessions)
        data["stale"] = list(self.stale)
        return data


def status(ws: Workspace) -> IndexStatus:
    """What the index holds and what `tacit index` would change; loads no model."""
    from tacit.records import sessions

    found = manifest.load(ws)
    model_id = embedder_module.for_workspace(ws).model_id
    desired = {c.id: c for c in chunker.chunk_kb(ws)}
    indexed = found.chunks if found else {}
    new = desired.keys() - indexed.keys()
    gone = indexed.keys() - desired.keys()
    changed = {desired[i].session for i in new} | {indexed[i]["session"] for i in gone}
    reasons = _stale_reasons(ws, found, model_id, desired.keys(), changed)
    countable = [s for s in sessions.list_all(ws) if not s.withheld]
    vectors = store.ChromaStore(ws)
    return IndexStatus(
        sessions=len(countable),
        indexed_sessions=len(found.sessions) if found else 0,
        chunks=len(indexed),
        model=found.model if found else "",
        configured_model=model_id,
        store=vectors.describe(),
        last_indexed=found.indexed_at if found else None,
        up_to_date=not reasons,
        new_chunks=len(new),
        removed_chunks=len(gone),
        stale_sessions=tuple(sorted(changed)),
        stale=tuple(reasons),
    )


def _interrupted(ws: Workspace) -> list[str]:
    found = []
    if intents.read(ws, intents.REBUILD) is not None:
        found.append("a rebuild was interrupted: the index is incomplete; run `tacit index`")
    if intents.read(ws, intents.FORGET) is not None:
        found.append("a forget was interrupted: run `tacit forget` to finish it")
    return found


def _stale_reasons(
    ws: Workspace,
    found: manifest.Manifest | None,
    model_id: str,
    desired: set[str] | object,
    changed: set[str],
) -> list[str]:
    interrupted = _interrupted(ws)
    if found is None:
        return [*interrupted, "never indexed (or the manifest is missing): run `tacit index`"]
    reasons = interrupted
    if found.model != model_id:
        reasons.append(f"embedding model changed ({found.model} -> {model_id}): needs --rebuild")
    if found.chunker_version != CHUNKER_VERSION:
        reasons.append(
            f"chunker changed (version {found.chunker_version} -> {CHUNKER_VERSION}): "
            "needs --rebuild"
        )
    if found.redaction != _redaction(ws):
        reasons.append("redaction settings changed since the last index")
    if changed:
        reasons.append(f"{len(changed)} session(s) changed: {', '.join(sorted(changed))}")
    if not changed and lexical.stored_digest(ws) != lexical.digest(desired):
        reasons.append("lexical index missing or out of date")
    vectors = store.ChromaStore(ws)
    if not vectors.url and not vectors.path.exists():
        reasons.append("vector store missing")
    return reasons
