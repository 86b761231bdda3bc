"""The agenda for the next session with an expert: open questions, then sections never covered.

Open questions are the expert's skipped and follow-up answers (unless a later session answered
them) and the protégé questions in questions.jsonl that the KB could not answer and that name
this expert. The risk and plan commands reuse `agenda()`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from tacit.interviews import experts, guides, sessions
from tacit.workspace import Workspace

COVERED = ("answered", "follow-up")


@dataclass(frozen=True)
class OpenQuestion:
    source: str  # follow-up | skipped | asked (by a protégé; the KB had no answer)
    question: str
    note: str = ""  # the follow-up note, the reason for skipping
    session: str = ""
    guide: str = ""
    qid: str = ""
    section: str = ""
    asked: str = ""  # questions asked by a protégé: when (first) asked
    times_asked: int = 0


@dataclass(frozen=True)
class OpenSection:
    guide: str
    guide_title: str
    section: str  # slug
    title: str
    questions: int
    guide_used: bool  # the expert already had a session with this guide


@dataclass(frozen=True)
class Agenda:
    expert: str
    name: str
    open_questions: tuple[OpenQuestion, ...]
    sections: tuple[OpenSection, ...]
    unreadable_log_lines: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def agenda(ws: Workspace, slug: str) -> Agenda:
    expert = experts.get(ws, slug)
    held = sorted(sessions.list_all(ws, expert=slug), key=lambda s: s.started)
    asked, unreadable = _asked_questions(ws, slug)
    return Agenda(
        expert=slug,
        name=expert.name,
        open_questions=tuple(_open_answers(held)) + tuple(asked),
        sections=tuple(_open_sections(ws, held)),
        unreadable_log_lines=unreadable,
    )


def _open_answers(held: list[sessions.Session]) -> list[OpenQuestion]:
    """The latest word on each (guide, question): open while it is skipped or follow-up."""
    latest: dict[tuple[str, str], tuple[sessions.Session, sessions.Answer]] = {}
    for session in held:
        for answer in session.answers:
            if answer.status != "pending":
                latest[(session.guide, answer.qid)] = (session, answer)
    found = [
        OpenQuestion(
            source=answer.status,
            question=answer.question,
            note=answer.text,
            session=session.id,
            guide=session.guide,
            qid=answer.qid,
            section=answer.section,
        )
        for session, answer in latest.values()
        if answer.status in ("skipped", "follow-up")
    ]
    # follow-ups were asked for; skipped questions were only passed over
    return sorted(found, key=lambda q: q.source != "follow-up")


def _asked_questions(ws: Workspace, slug: str) -> tuple[list[OpenQuestion], int]:
    path = ws.questions_log
    if not path.is_file():
        return [], 0
    merged: dict[str, OpenQuestion] = {}
    unreadable = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            unreadable += 1
            continue
        if not isinstance(entry, dict) or entry.get("not_captured") is not True:
            continue
        named = entry.get("experts") or []
        question = str(entry.get("question") or "").strip()
        if not question or not isinstance(named, list) or slug not in named:
            continue
        key = " ".join(question.lower().split())
        earlier = merged.get(key)
        merged[key] = OpenQuestion(
            source="asked",
            question=earlier.question if earlier else question,
            asked=str(entry.get("time") or ""),
            times_asked=(earlier.times_asked if earlier else 0) + 1,
        )
    ordered = sorted(merged.values(), key=lambda q: (-q.times_asked, q.asked))
    return ordered, unreadable


def _open_sections(ws: Workspace, held: list[sessions.Session]) -> list[OpenSection]:
    """Sections of every interview guide where no question was ever answered with this expert."""
    covered = {
        (s.guide, a.qid.split("/")[0]) for s in held for a in s.answers if a.status in COVERED
    }
    used = {s.guide for s in held}
    found = []
    for entry in guides.available(ws):
        guide = entry.guide
        if guide is None or entry.problems or guide.kind != "interview":
            continue
        for section in guide.sections:
            if (guide.name, section.slug) not in covered:
                found.append(
                    OpenSection(
                        guide=guide.name,
                        guide_title=guide.title,
                        section=section.slug,
                        title=section.title,
                        questions=len(section.questions),
                        guide_used=guide.name in used,
                    )
                )
    # sections of guides already begun come first: finishing a guide beats opening another
    return sorted(found, key=lambda s: not s.guide_used)
