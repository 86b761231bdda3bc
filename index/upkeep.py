"""Health and forgetting for the vector store: the child-process probe, `doctor`'s check,
removing one session from every index, and compaction that leaves no deleted byte behind."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tacit.core.errors import TacitError
from tacit.index.store import ChromaStore, remove_folder

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace

PROBE_TIMEOUT_S = 120

_PROBE = """
import json, sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
total = 0
for col in client.list_collections():
    col = client.get_collection(col.name, embedding_function=None)
    n = col.count()
    total += n
    if n:
        got = col.get(limit=1, include=["embeddings", "metadatas", "documents"])
        col.query(query_embeddings=[got["embeddings"][0]], n_results=min(n, 3))
        col.get(include=[], limit=n)
print(json.dumps({"ok": True, "count": total}))
"""


def probe(path: Path) -> tuple[bool, str]:
    """Open the embedded store in a child process: (healthy, count or what went wrong)."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path)],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return False, f"opening it did not finish in {PROBE_TIMEOUT_S} s"
    if proc.returncode == 0 and '"ok": true' in proc.stdout:
        return True, str(json.loads(proc.stdout.strip().splitlines()[-1])["count"])
    if proc.returncode < 0:
        return False, f"opening it crashed the process (signal {-proc.returncode})"
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return False, (lines[-1] if lines else f"exit status {proc.returncode}")[:200]


def check_reachable(ws: Workspace) -> str:
    """One line about the vector store for `tacit doctor`; raises when it is unusable."""
    store = ChromaStore(ws)
    if store.url:
        client = store.client()
        client.heartbeat()
        return f"{store.describe()} (Chroma {client.get_version()}): {store.count()} chunks"
    if not store.path.exists():
        return f"{store.describe()}: not built yet (run `tacit index`)"
    healthy, detail = probe(store.path)
    if not healthy:
        raise TacitError(f"the vector index at {store.path} is unreadable: {detail}")
    return f"{store.describe()}: {detail} chunks"


# --- forget ----------------------------------------------------------------------------------


def delete_session(ws: Workspace, session_id: str) -> int:
    """Remove one session's chunks from Chroma, the lexical index, the embedding cache and
    the manifest. The caller holds the writer lock. Returns how many chunks were removed.
    Chunk text is never read back here (ids and hashes only): see vacuum()."""
    from tacit.index import lexical, manifest
    from tacit.index.embedder import EmbeddingCache

    store = ChromaStore(ws)
    stored: dict[str, str] = {}
    if store.url or store.path.exists():
        stored = store.hashes({"session": session_id})
        store.delete(list(stored))
    store.close()
    lexical_chunks = lexical.stored_chunks(ws)
    remaining = [c for c in lexical_chunks if c.session != session_id]
    removed = set(stored) | {c.id for c in lexical_chunks if c.session == session_id}
    gone = set(stored.values()) | {
        c.content_hash for c in lexical_chunks if c.session == session_id
    }
    found = manifest.load(ws)
    if found is not None:
        mine = {k: e for k, e in found.chunks.items() if e.get("session") == session_id}
        removed |= set(mine)
        gone |= {e["hash"] for e in mine.values()}
        manifest.save(ws, found.without_session(session_id))
    if len(remaining) != len(lexical_chunks):
        lexical.build(ws, remaining)
    cache = EmbeddingCache(ws)
    cache.delete_hashes(gone - {c.content_hash for c in remaining})
    cache.close()
    return len(removed)


REBUILD_IN_CHILD = (
    "import sys; from pathlib import Path; from tacit.core import config, workspace; "
    "from tacit.index import indexer; root = Path(sys.argv[1]); "
    "indexer.run(workspace.Workspace(root, config.load(root / 'tacit.toml')), rebuild=True)"
)


def _child_env() -> dict[str, str]:
    """The compacting child is not the run a test meant to kill."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    for hook in ("TACIT_FAULT", "TACIT_INDEX_KILL_AT"):
        env.pop(hook, None)
    return env


def vacuum(ws: Workspace) -> str:
    """After forgetting (session folders already gone): leave no byte of deleted chunks in the
    embedded store or the embedding cache. The caller holds the writer lock.

    Deleting from Chroma and VACUUM are not enough: its write log keeps deleted records until
    the vector segment next flushes, and its HNSW files are written from memory that is not
    zeroed, which may hold text the writing process saw. So the embedded store is rebuilt
    from the plain files in a fresh child process that never read the deleted text (vectors
    come from the embedding cache: nothing is embedded again), then VACUUMed.
    """
    from tacit.index.embedder import EmbeddingCache

    cache = EmbeddingCache(ws)
    cache.vacuum()
    cache.close()
    store = ChromaStore(ws)
    if store.url:
        return (
            f"deleted through the API of the {store.describe()}; compacting the server's "
            "storage is its operator's job"
        )
    from tacit.index import manifest

    if not store.path.exists() and not manifest.path(ws).exists():
        return "no embedded vector store to compact (the knowledge base was not indexed)"
    store.close(drop=True)
    remove_folder(store.path)  # a run killed after this point rebuilds from the manifest
    proc = subprocess.run(
        [sys.executable, "-c", REBUILD_IN_CHILD, str(ws.root)],
        capture_output=True,
        text=True,
        env=_child_env(),
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no detail"])[-1]
        return f"removed the embedded vector store; run `tacit index` to rebuild it ({last})"
    db = sqlite3.connect(store.path / "chroma.sqlite3")
    try:
        db.execute("VACUUM")
    finally:
        db.close()
    return f"rebuilt {store.describe()} from the plain files (no deleted text remains)"
