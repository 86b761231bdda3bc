"""Work a killed run left half done (a forget, an index --rebuild), finished before new writes.

The journal itself (what is pending, which sessions it hides) is `core/intents.py`; finishing
needs forget and the indexer, so it lives up here, with the lock every writing command takes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from tacit.core import intents, workspace
from tacit.core.workspace import Workspace


def finish_pending(ws: Workspace) -> list[str]:
    """Finish what a killed run left half done. The caller holds the writer lock.

    Called on taking the writer lock, so every writing command finishes it first; costs one
    stat per kind when nothing is pending. Returns one line per job finished."""
    done: list[str] = []
    if intents.path(ws, intents.FORGET).is_file():
        from tacit.privacy import forget

        report = forget.resume(ws)
        done.append(f"finished an interrupted forget of {', '.join(report.sessions) or '-'}")
    if intents.path(ws, intents.REBUILD).is_file():
        from tacit.index import indexer

        indexer.run(ws, rebuild=True)
        done.append("finished an interrupted `tacit index --rebuild`")
    for line in done:
        sys.stderr.write(f"{line}\n")
    return done


@contextlib.contextmanager
def writer_lock(ws: Workspace, timeout: float | None = None) -> Iterator[None]:
    """Hold both locks (records, then index): for commands that change records and index.

    A killed forget or rebuild is finished first, so no writer works on a half-done state."""
    with workspace.records_lock(ws, timeout), workspace.index_lock(ws, timeout):
        finish_pending(ws)
        yield
