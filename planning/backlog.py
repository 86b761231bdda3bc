"""tacit plan: the capture backlog, highest-risk uncovered knowledge scheduled first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tacit.core.workspace import Workspace
from tacit.planning import risk
from tacit.planning.risk import RiskRow
from tacit.records import sessions as sessions_module

SESSIONS_PER_WEEK = 3


@dataclass(frozen=True)
class PlannedSession:
    expert: str
    name: str
    week: int  # 1-based, from today
    date: dt.date
    guide: str
    why: str
    agenda: tuple[str, ...]
    before_departure: bool
    score: int
    band: str

    def to_json(self) -> dict:
        return {**self.__dict__, "date": self.date.isoformat(), "agenda": list(self.agenda)}


def next_guide(ws: Workspace, row: RiskRow) -> tuple[str, str]:
    """Which guide to use next with this expert, and why. The method is chosen by type; the
    guide named is the one of that type already used with them, else the KB's own, else the
    built-in one."""
    held = sessions_module.list_all(ws, expert=row.expert.slug)
    used = [s.guide for s in held if s.guide]
    # by the guide's type, not its name: a custom exit guide is an exit interview
    guides_used = {risk.guide_type(ws, name) for name in used}
    cov = row.coverage
    if not cov.exit_interview:
        method, why = "exit-interview", "no exit interview yet"
    elif cov.open_questions or cov.protege_questions:
        method, why = "exit-interview", "open questions from earlier sessions and protégés"
    elif cov.topics_without_evidence and "knowledge-audit" not in guides_used:
        method, why = "knowledge-audit", "topics with no captured evidence"
    elif cov.observations == 0:
        method, why = "job-breakdown", "no hands-on task observed yet"
    elif "critical-decision" not in guides_used:
        method, why = "critical-decision", "walk one incident through"
    else:
        method, why = "handover", "close out duties, contacts and open matters"
    return _guide_of_type(ws, method, used), why


def _guide_of_type(ws: Workspace, method: str, used: list[str]) -> str:
    from tacit.records import guides

    mine = [name for name in used if risk.guide_type(ws, name) == method]
    if mine:
        return mine[-1]
    own = sorted(
        e.name
        for e in guides.available(ws)
        if not e.builtin
        and e.guide is not None
        and not e.problems
        and (e.guide.type or e.name) == method
    )
    return own[0] if method not in own and own else method


def _agenda(ws: Workspace, row: RiskRow) -> tuple[str, ...]:
    cov = row.coverage
    items = [f"open: {q}" for q in cov.open_questions]
    items += [f"protégé asked: {q}" for q in cov.protege_questions]
    items += [f"topic without evidence: {t}" for t in cov.topics_without_evidence]
    return tuple(items)


MAX_PLAN_WEEKS = 520  # ten years of weekly sessions


def plan(ws: Workspace, weeks: int = 4, today: dt.date | None = None) -> list[PlannedSession]:
    """Fill SESSIONS_PER_WEEK slots a week in risk order; each expert takes the earliest free
    slot, so a high-risk expert leaving soon is seen before they go. Experts fully covered or
    already gone are left out."""
    from tacit.core import validation

    validation.whole(weeks, "--weeks", 1, MAX_PLAN_WEEKS)
    today = today or dt.date.today()
    free = [
        today + dt.timedelta(days=w * 7 + d) for w in range(weeks) for d in range(SESSIONS_PER_WEEK)
    ]
    planned: list[PlannedSession] = []
    for row in (r for r in risk.assess(ws, today) if _needs_session(r)):
        if not free:
            break
        day = free.pop(0)
        guide, why = next_guide(ws, row)
        leaving = row.expert.leaving_on
        planned.append(
            PlannedSession(
                expert=row.expert.slug,
                name=row.expert.name,
                week=(day - today).days // 7 + 1,
                date=day,
                guide=guide,
                why=why,
                agenda=_agenda(ws, row),
                before_departure=leaving is None or day <= leaving,
                score=row.score,
                band=row.band,
            )
        )
    return sorted(planned, key=lambda p: p.date)


def departed(ws: Workspace, today: dt.date | None = None) -> list[RiskRow]:
    """Experts whose leaving date has passed: not scheduled, and said so."""
    return [r for r in risk.assess(ws, today) if r.left]


def _needs_session(row: RiskRow) -> bool:
    if row.left:
        return False  # already gone
    cov = row.coverage
    return (
        cov.share < 1.0
        or bool(cov.open_questions)
        or bool(cov.protege_questions)
        or cov.sessions == 0
    )
