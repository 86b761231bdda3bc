"""The agenda for the next session with an expert: open questions, then sections never covered.

Open questions are the expert's skipped and follow-up answers (unless a later session answered
them) and the protégé questions in questions.jsonl that the KB could not answer and that name
this expert. Sections are those of the guides used with the expert or planned next for them.

Each item has an id (`GUIDE/QID` for an answer, `GUIDE/SECTION` for a section, `ask-HASH` for
a protégé question). `--done ID` and `--dismiss ID` append to experts/<slug>.agenda.jsonl, which
every later agenda, `risk` and `plan` read: a dismissed question does not come back, even when a
protégé asks it again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from tacit.core.errors import NotFound, UsageError
from tacit.core.fileio import append_line
from tacit.core.workspace import Workspace
from tacit.planning import open_questions
from tacit.records import experts, guides, questions, sessions

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
    id: str = ""  # for --done / --dismiss


@dataclass(frozen=True)
class OpenSection:
    guide: str
    guide_title: str
    section: str  # slug
    title: str
    questions: int
    guide_used: bool  # the expert already had a session with this guide
    id: str = ""


@dataclass(frozen=True)
class Agenda:
    expert: str
    name: str
    open_questions: tuple[OpenQuestion, ...]
    sections: tuple[OpenSection, ...]
    unreadable_log_lines: int = 0
    closed: int = 0  # items marked done or dismissed, left out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def agenda(ws: Workspace, slug: str) -> Agenda:
    expert = experts.get(ws, slug)
    held = sorted(sessions.list_all(ws, expert=slug), key=lambda s: s.started)
    asked, unreadable = _asked_questions(ws, slug)
    closed = open_questions.closed_ids(ws, slug)
    items = [q for q in _open_answers(held) + asked if q.id not in closed]
    sections = [
        s for s in _open_sections(ws, held, _planned_guide(ws, expert)) if s.id not in closed
    ]
    return Agenda(
        expert=slug,
        name=expert.name,
        open_questions=tuple(items),
        sections=tuple(sections),
        unreadable_log_lines=unreadable,
        closed=len(closed),
    )


def close(ws: Workspace, slug: str, item_id: str, action: str, reason: str = "") -> dict:
    """Mark one agenda item done or dismissed; it stays off every later agenda."""
    if action not in ("done", "dismissed"):
        raise UsageError(f"unknown action {action!r}")
    if reason and action != "dismissed":
        raise UsageError("--reason goes with --dismiss")
    current = agenda(ws, slug)
    titles = {q.id: q.question for q in current.open_questions}
    titles |= {s.id: f"{s.guide}: {s.title}" for s in current.sections}
    if item_id not in titles:
        raise NotFound(
            f"no open item {item_id!r} on {slug}'s agenda; see `tacit expert agenda {slug}`"
        )
    entry = {
        "time": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "id": item_id,
        "action": action,
        "item": titles[item_id],
        "reason": reason,
    }
    append_line(open_questions.marks_path(ws, slug), json.dumps(entry, ensure_ascii=False))
    return entry


def _planned_guide(ws: Workspace, expert: experts.Expert) -> str | None:
    from tacit.planning import backlog, risk

    row = risk.row_for(ws, expert, dt.date.today())
    return None if row.left else backlog.next_guide(ws, row)[0]


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
            id=f"{session.guide}/{answer.qid}" if session.guide else f"{session.id}/{answer.qid}",
        )
        for session, answer in latest.values()
        if answer.status in ("skipped", "follow-up")
    ]
    # follow-ups were asked for; skipped questions were only passed over
    return sorted(found, key=lambda q: q.source != "follow-up")


def _asked_questions(ws: Workspace, slug: str) -> tuple[list[OpenQuestion], int]:
    merged: dict[str, OpenQuestion] = {}
    logged, unreadable = questions.entries(ws)
    for entry in logged:
        if not open_questions.is_open_question(entry):
            continue
        named = entry.get("experts") or []
        question = str(entry.get("question") or "").strip()
        if not isinstance(named, list) or slug not in named:
            continue
        key = " ".join(question.lower().split())
        earlier = merged.get(key)
        merged[key] = OpenQuestion(
            source="asked",
            question=earlier.question if earlier else question,
            asked=str(entry.get("time") or ""),
            times_asked=(earlier.times_asked if earlier else 0) + 1,
            id=open_questions.asked_id(question),
        )
    ordered = sorted(merged.values(), key=lambda q: (-q.times_asked, q.asked))
    return ordered, unreadable


def _open_sections(
    ws: Workspace, held: list[sessions.Session], planned: str | None
) -> list[OpenSection]:
    """Sections never answered, of the guides used with this expert or planned next for them
    (other experts' custom guides are not theirs)."""
    covered = {
        (s.guide, a.qid.split("/")[0]) for s in held for a in s.answers if a.status in COVERED
    }
    used = {s.guide for s in held if s.guide}
    theirs = used | ({planned} if planned else set())
    found = []
    for entry in guides.available(ws):
        guide = entry.guide
        if guide is None or entry.problems or guide.kind != "interview":
            continue
        if guide.name not in theirs:
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
                        id=f"{guide.name}/{section.slug}",
                    )
                )
    # sections of guides already begun come first: finishing a guide beats opening another
    return sorted(found, key=lambda s: not s.guide_used)
