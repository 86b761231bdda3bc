"""What is still open for an expert: protégé questions the KB could not answer, and the agenda
items marked done or dismissed (experts/<slug>.agenda.jsonl). Risk counts these; the agenda
lists them; neither needs the other to know.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tacit.core.workspace import Workspace, safe_name


def marks_path(ws: Workspace, slug: str) -> Path:
    return ws.experts_dir / f"{safe_name(slug, 'expert slug')}.agenda.jsonl"


def asked_id(question: str) -> str:
    """The same question, however spaced or capitalised, has the same id."""
    key = " ".join(question.lower().split())
    return "ask-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def closed_ids(ws: Workspace, slug: str) -> set[str]:
    """Ids marked done or dismissed for this expert (lines cut by a crash are skipped)."""
    path = marks_path(ws, slug)
    if not path.is_file():
        return set()
    found = set()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            found.add(entry["id"])
    return found


def is_open_question(entry: Any) -> bool:
    """A line of questions.jsonl that should reach an expert: not captured, with content
    words and no chat command (older lines, written before `open_question`, are checked too)."""
    from tacit.index.terms import worth_an_agenda

    if not isinstance(entry, dict) or entry.get("not_captured") is not True:
        return False
    question = str(entry.get("question") or "").strip()
    return entry.get("open_question") is not False and worth_an_agenda(question)
