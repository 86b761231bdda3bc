"""Observation sessions: questions before the task, a timestamped step log, questions after.

Each step is what was done, its key point and the reason, stamped with the seconds since the
session's start so it lines up with the recording. A step marked `practise` is one the learner
must then practise: watching alone does not transfer a skill.
"""

from __future__ import annotations

from typing import Any

from tacit.core.errors import TacitError
from tacit.core.validation import MAX_SECONDS
from tacit.core.workspace import Workspace
from tacit.interviews import question_loop
from tacit.interviews.question_loop import AnswersFile, Clock, Terminal
from tacit.records.guides import Guide
from tacit.records.session_page import clock as clock_text
from tacit.records.sessions import Answer, Session, Step

YES = ("y", "yes", "p", "practise", "practice")
STEP_KEYS = {"action", "key_point", "reason", "practise", "at"}
MAX_AT = MAX_SECONDS
STEP_HELP = (
    "Log each important step as the expert does it: what was done, then its key point, why, and "
    "whether a learner must practise it. At the step prompt: done (end the log) · back (remove "
    "the last step) · pause"
)


def _before_steps(guide: Guide | None) -> set[str]:
    """Question ids of the sections that come before the step log."""
    if guide is None:
        return set()
    slugs = [s.slug for s in guide.sections]
    cut = slugs.index(guide.steps_section) if guide.steps_section in slugs else len(slugs)
    return {q.id for s in guide.sections[:cut] for q in s.questions}


def walk(
    ws: Workspace, session: Session, guide: Guide | None, term: Terminal, clock: Clock
) -> Session:
    before = _before_steps(guide)

    def is_before(answer: Answer) -> bool:
        return guide is None or answer.qid in before

    if not session.steps_done:
        session, paused = question_loop.ask_questions(ws, session, guide, term, clock, is_before)
        if not paused:
            session, paused = log_steps(ws, session, guide, term, clock)
        if paused:
            return question_loop.save(ws, session, term.say, status="paused")
        session = question_loop.save(ws, session, term.say, steps_done=True)
    session, paused = question_loop.ask_questions(
        ws, session, guide, term, clock, lambda a: not is_before(a)
    )
    return question_loop.save(ws, session, term.say, status="paused" if paused else "done")


def log_steps(
    ws: Workspace, session: Session, guide: Guide | None, term: Terminal, clock: Clock
) -> tuple[Session, bool]:
    """The step log; every step is saved the moment its last field is entered."""
    section = guide.section(guide.steps_section) if guide else None
    if section is not None:
        term.show_section(section)
    term.say(STEP_HELP)
    while True:
        n = len(session.steps) + 1
        line = term.ask(f"step {n} · {clock_text(clock())} · what was done?")
        command = (line or "").strip().lower()
        if line is None or command == "pause":
            return session, True
        if command == "done":
            return session, False
        if command == "back":
            if session.steps:
                term.say(f"removed step {n - 1}: {session.steps[-1].action}")
                session = question_loop.save(ws, session, term.say, steps=session.steps[:-1])
            continue
        if not command:
            continue
        at = clock()
        key_point = (term.ask("  key point") or "").strip()
        reason = (term.ask("  why") or "").strip()
        practise = (term.ask("  practise? [y/N]") or "").strip().lower() in YES
        step = Step(n, at, line.strip(), key_point, reason, practise)
        session = question_loop.save(
            ws, session, term.say, steps=session.steps + (step,), status="open"
        )


def steps_from_file(doc: AnswersFile | None, clock: Clock, first: int) -> tuple[Step, ...]:
    """The steps: list of an --answers file (action, key_point, reason, practise, at)."""
    if doc is None:
        return ()
    steps = []
    for offset, entry in enumerate(doc.steps):
        where = f"{doc.path}: step {offset + 1}"
        unknown = set(entry) - STEP_KEYS
        if unknown:
            raise TacitError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        if not isinstance(entry.get("action"), str) or not entry["action"].strip():
            raise TacitError(f"{where}: needs action: what was done")
        at = entry.get("at", clock())
        if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= at <= MAX_AT:
            raise TacitError(f"{where}: at must be seconds from the session's start, not {at!r}")
        for key in ("action", "key_point", "reason"):
            if isinstance(entry.get(key), list | dict):
                raise TacitError(f"{where}: {key} must be text, not a list or mapping")
        steps.append(
            Step(
                n=first + offset,
                at=float(at),
                action=entry["action"].strip(),
                key_point=_text(entry.get("key_point")),
                reason=_text(entry.get("reason")),
                practise=entry.get("practise") is True,
            )
        )
    return tuple(steps)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
