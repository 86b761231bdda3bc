"""Intent files: a multi-step change (forget, index --rebuild) writes what it is about to do
before it starts, as a plain file at the KB root (not under .tacit/, which stays a cache that
may be deleted), and removes it when done. A run killed in between leaves the file behind:
the next writing command finishes the job, `doctor` reports it, and `ask` (which takes no
lock) hides every session a pending forget names.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.fileio import atomic_write

if TYPE_CHECKING:
    from tacit.workspace import Workspace

FORGET = "forget"
REBUILD = "rebuild"
KINDS = (FORGET, REBUILD)


def path(ws: Workspace, kind: str) -> Path:
    return ws.root / f"pending-{kind}.json"


def write(ws: Workspace, kind: str, data: dict[str, Any]) -> None:
    atomic_write(path(ws, kind), json.dumps({"kind": kind, **data}, ensure_ascii=False) + "\n")


def read(ws: Workspace, kind: str) -> dict[str, Any] | None:
    """The pending intent, or None. A damaged file still counts as pending (an empty one)."""
    where = path(ws, kind)
    if where.is_symlink() or not where.is_file():
        return None
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def clear(ws: Workspace, kind: str) -> None:
    path(ws, kind).unlink(missing_ok=True)


def pending(ws: Workspace) -> list[str]:
    return [kind for kind in KINDS if path(ws, kind).is_file()]


def hidden_sessions(ws: Workspace) -> frozenset[str]:
    """Sessions a pending forget names: never shown, even before the forget has finished."""
    found = read(ws, FORGET)
    if not found:
        return frozenset()
    return frozenset(str(s) for s in found.get("sessions") or () if isinstance(s, str))


def finish_pending(ws: Workspace) -> list[str]:
    """Finish what a killed run left half done. The caller holds the writer lock.

    Called on taking the writer lock, so every writing command finishes it first; costs one
    stat per kind when nothing is pending. Returns one line per job finished."""
    done: list[str] = []
    if path(ws, FORGET).is_file():
        from tacit import erasure

        report = erasure.resume(ws)
        done.append(f"finished an interrupted forget of {', '.join(report.sessions) or '-'}")
    if path(ws, REBUILD).is_file():
        from tacit.index import indexer

        indexer.run(ws, rebuild=True)
        done.append("finished an interrupted `tacit index --rebuild`")
    for line in done:
        sys.stderr.write(f"{line}\n")
    return done


_hiding_class: Any = None


def hiding(ws: Workspace, filters: Any) -> Any:
    """The retriever's filters, also refusing every chunk of a session being forgotten."""
    hidden = hidden_sessions(ws)
    if not hidden:
        return filters
    global _hiding_class
    if _hiding_class is None:
        from dataclasses import dataclass, fields

        from tacit.index.retriever import Filters

        @dataclass(frozen=True)
        class Hiding(Filters):
            hidden: frozenset[str] = frozenset()

            def allows(self, chunk: Any) -> bool:
                return chunk.session not in self.hidden and super().allows(chunk)

        Hiding.base_fields = tuple(f.name for f in fields(Filters))  # type: ignore[attr-defined]
        _hiding_class = Hiding
    base = {name: getattr(filters, name) for name in _hiding_class.base_fields}
    return _hiding_class(**base, hidden=hidden)
