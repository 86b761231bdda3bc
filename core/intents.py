"""Intent files: a multi-step change (forget, index --rebuild) writes what it is about to do
before it starts, as a plain file at the KB root (not under .tacit/, which stays a cache that
may be deleted), and removes it when done. A run killed in between leaves the file behind:
the next writing command finishes the job, `doctor` reports it, and `ask` (which takes no
lock) hides every session a pending forget names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.core.fileio import atomic_write

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace

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
