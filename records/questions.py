"""questions.jsonl: every question a protégé asked, one JSON object per line.

The one reader and writer of the log. It feeds the protégé demand in the KM report, the open
questions on an expert's agenda, knowledge-loss risk, and is pruned by `forget` and re-masked
when the redaction settings change. A line a crash cut short is kept as it is and skipped by
readers: it must not hide the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tacit.core.fileio import append_line, atomic_write
from tacit.core.workspace import Workspace


@dataclass(frozen=True)
class Line:
    text: str
    entry: dict[str, Any] | None  # None: not a JSON object (cut short, or written by hand)


def lines(ws: Workspace) -> list[Line]:
    """Every non-blank line of the log, read or not; [] when there is no log (or a link)."""
    log = ws.questions_log
    if not log.is_file() or log.is_symlink():
        return []
    found = []
    for text in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except ValueError:
            entry = None
        found.append(Line(text, entry if isinstance(entry, dict) else None))
    return found


def entries(ws: Workspace) -> tuple[list[dict[str, Any]], int]:
    """The readable entries, oldest first, and how many lines could not be read."""
    found = lines(ws)
    return [line.entry for line in found if line.entry is not None], sum(
        line.entry is None for line in found
    )


def append(ws: Workspace, entry: dict[str, Any]) -> None:
    append_line(ws.questions_log, json.dumps(entry, ensure_ascii=False))


def rewrite(ws: Workspace, change: Callable[[Line], str | None]) -> int:
    """Give every line to `change`: it returns the line to keep (maybe changed) or None to drop
    it. The log is written again, atomically, only when a line changed; returns how many did."""
    kept, changed = [], 0
    for line in lines(ws):
        new = change(line)
        changed += new != line.text
        if new is not None:
            kept.append(new)
    if changed:
        atomic_write(ws.questions_log, "".join(f"{text}\n" for text in kept))
    return changed


def encoded(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False)
