"""Knowledge-loss risk (attrition x position risk) and how much of each expert is captured."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tacit.core.config import Config
from tacit.core.errors import TacitError
from tacit.core.workspace import Workspace
from tacit.planning import open_questions as still_open
from tacit.records import experts as experts_module
from tacit.records import questions
from tacit.records import sessions as sessions_module
from tacit.records import transcript as transcript_model
from tacit.records.experts import Expert
from tacit.records.sessions import Session

EXIT_INTERVIEW = "exit-interview"
LEFT = "left"  # the band of an expert whose leaving date has passed
LOW_COVERAGE = 0.5  # high risk below this share of coverage is flagged


@dataclass(frozen=True)
class Coverage:
    sessions: int
    observations: int
    hours_recorded: float
    sections_total: int
    sections_answered: int
    open_questions: tuple[str, ...]
    protege_questions: tuple[str, ...]  # asked by protégés, not captured, on this expert's topics
    topics_without_evidence: tuple[str, ...]

    topics_total: int = 0
    exit_interview: bool = False  # a session held with a guide of type exit-interview

    @property
    def share(self) -> float:
        """0..1: the mean of guide sections answered and topics with captured evidence."""
        parts = []
        if self.sections_total:
            parts.append(self.sections_answered / self.sections_total)
        if self.topics_total:
            parts.append(1 - len(self.topics_without_evidence) / self.topics_total)
        if not parts:
            return 1.0 if self.sessions else 0.0
        return round(sum(parts) / len(parts), 3)


@dataclass(frozen=True)
class RiskRow:
    expert: Expert
    days_to_departure: int | None
    attrition: int
    attrition_source: str  # leaving_on | given | default
    position_risk: int
    score: int
    band: str  # high | medium | low
    coverage: Coverage
    flag: bool = field(default=False)  # high risk and coverage under half
    left: bool = False  # leaving date in the past: gone, shown as left and not scored

    @property
    def left_on(self) -> dt.date | None:
        return self.expert.leaving_on if self.left else None

    def to_json(self) -> dict:
        cov = self.coverage
        return {
            "expert": self.expert.slug,
            "name": self.expert.name,
            "role": self.expert.role,
            "leaving_on": self.expert.leaving_on.isoformat() if self.expert.leaving_on else None,
            "days_to_departure": self.days_to_departure,
            "attrition": self.attrition,
            "attrition_source": self.attrition_source,
            "position_risk": self.position_risk,
            "score": self.score,
            "band": self.band,
            "flag": self.flag,
            "left": self.left,
            "coverage": {
                "share": cov.share,
                "sessions": cov.sessions,
                "observations": cov.observations,
                "hours_recorded": round(cov.hours_recorded, 2),
                "sections_answered": cov.sections_answered,
                "sections_total": cov.sections_total,
                "open_questions": list(cov.open_questions),
                "protege_questions": list(cov.protege_questions),
                "topics_without_evidence": list(cov.topics_without_evidence),
                "exit_interview": cov.exit_interview,
            },
        }


def has_left(expert: Expert, today: dt.date) -> bool:
    """A leaving date in the past means the expert has left (not a score of 5)."""
    return expert.leaving_on is not None and expert.leaving_on < today


def attrition_score(expert: Expert, config: Config, today: dt.date) -> tuple[int, str, int | None]:
    """(score 1-5, where it came from, days to departure)."""
    risk = config.risk
    if expert.leaving_on is None:
        if expert.attrition is not None:
            return expert.attrition, "given", None
        return risk["attrition_default"], "default", None
    days = (expert.leaving_on - today).days
    near, mid, far = risk["attrition_days"]
    if days <= near:
        return 5, "leaving_on", days
    if days <= mid:
        return 4, "leaving_on", days
    if days <= far:
        return 3, "leaving_on", days
    return risk["attrition_later"], "leaving_on", days


def band(score: int, config: Config) -> str:
    if score >= config.risk["high"]:
        return "high"
    return "medium" if score >= config.risk["medium"] else "low"


def not_captured_questions(ws: Workspace) -> list[dict]:
    """Protégé questions the KB could not answer, from questions.jsonl (bad lines skipped)."""

    return [entry for entry in questions.entries(ws)[0] if still_open.is_open_question(entry)]


def _session_text(ws: Workspace, session: Session) -> str:
    """What the expert said or wrote: typed answers (not the questions put to them), notes,
    observed steps and the transcript."""
    parts = [a.text for a in session.answers if a.text.strip() and a.status != "skipped"]
    parts += [f"{s.action} {s.key_point} {s.reason}" for s in session.steps]
    if session.notes.strip():
        parts.append(session.notes)
    path = transcript_model.path(ws, session.id)
    if path.is_file():
        parts += [seg.text for seg in transcript_model.load(path).segments]
    return " ".join(parts).lower()


def _recorded_hours(ws: Workspace, session: Session) -> float:
    path = transcript_model.path(ws, session.id)
    if not path.is_file():
        return 0.0
    transcript = transcript_model.load(path)
    end = max((seg.end for seg in transcript.segments), default=0.0)
    return max(transcript.duration, end) / 3600


def _has_evidence(topic: str, said: set[str]) -> bool:
    """Every content word of the topic was said, in any inflection ("pump seals" ~ "seal")."""
    from tacit.index import lexical

    words = set(lexical.tokens(topic))
    return bool(words) and words <= said


def guide_type(ws: Workspace, guide_name: str) -> str:
    """What method a guide follows: its `type`, else its name (built-ins and their copies)."""
    from tacit.records import guides

    try:
        return guides.get(ws, guide_name).type or guide_name
    except TacitError:
        return guide_name


def _guide_sections(ws: Workspace, guide_name: str) -> list[str]:
    from tacit.records import guides

    try:
        return [section.title for section in guides.get(ws, guide_name).sections]
    except TacitError:  # a guide deleted or broken since: count the sections the answers name
        return []


def coverage(ws: Workspace, expert: Expert, asked: list[dict] | None = None) -> Coverage:
    held = [s for s in sessions_module.list_all(ws, expert=expert.slug) if not s.withheld]
    sections_total = sections_answered = 0
    for guide_name in sorted({s.guide for s in held if s.guide}):
        with_guide = [s for s in held if s.guide == guide_name]
        answered = {
            a.section
            for s in with_guide
            for a in s.answers
            if a.status in ("answered", "follow-up") and a.text.strip()
        }
        titles = _guide_sections(ws, guide_name) or sorted(
            {a.section for s in with_guide for a in s.answers}
        )
        sections_total += len(titles)
        sections_answered += len(answered & set(titles))

    closed = still_open.closed_ids(ws, expert.slug)  # done or dismissed on the agenda
    open_questions = tuple(
        a.question
        for s in held
        for a in s.answers
        if a.status in ("skipped", "follow-up") and f"{s.guide or s.id}/{a.qid}" not in closed
    )
    asked = not_captured_questions(ws) if asked is None else asked
    protege = tuple(
        str(q["question"])
        for q in asked
        if expert.slug in (q.get("experts") or [])
        and still_open.asked_id(str(q["question"])) not in closed
    )
    from tacit.index import lexical

    said = set(lexical.tokens(" ".join(_session_text(ws, s) for s in held)))
    missing = tuple(t for t in expert.topics if not _has_evidence(t, said))
    exit_held = any(s.guide and guide_type(ws, s.guide) == EXIT_INTERVIEW for s in held)
    return Coverage(
        sessions=len(held),
        observations=sum(1 for s in held if s.kind == "observation"),
        hours_recorded=sum(_recorded_hours(ws, s) for s in held),
        sections_total=sections_total,
        sections_answered=sections_answered,
        open_questions=open_questions,
        protege_questions=protege,
        topics_without_evidence=missing,
        topics_total=len(expert.topics),
        exit_interview=exit_held,
    )


def row_for(
    ws: Workspace, expert: Expert, today: dt.date, asked: list[dict] | None = None
) -> RiskRow:
    """One expert's risk and coverage."""
    attrition, source, days = attrition_score(expert, ws.config, today)
    score = attrition * expert.position_risk
    cov = coverage(ws, expert, asked)
    left = has_left(expert, today)
    if left:  # what they knew and did not record is gone: nothing left to score
        attrition, score = 0, 0
    level = LEFT if left else band(score, ws.config)
    return RiskRow(
        expert,
        days,
        attrition,
        source,
        expert.position_risk,
        score,
        level,
        cov,
        flag=level == "high" and cov.share < LOW_COVERAGE,
        left=left,
    )


def assess(ws: Workspace, today: dt.date | None = None) -> list[RiskRow]:
    """Every expert, highest knowledge-loss risk first (ties: soonest departure, least covered)."""
    today = today or dt.date.today()
    asked = not_captured_questions(ws)
    rows = [row_for(ws, expert, today, asked) for expert in experts_module.list_all(ws)]
    far = 10**6
    rows.sort(
        key=lambda r: (
            r.left,
            -r.score,
            r.days_to_departure if r.days_to_departure is not None else far,
            r.coverage.share,
            r.expert.slug,
        )
    )
    return rows
