"""What a pack takes from observation sessions: the observed steps (with their recording
moments) and the practice tasks that follow watching them. Observation is followed by the learner
practising: every step marked `practise` becomes a task in the week after the pack schedules
watching that session, unless the coach listed it already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tacit.core import timefmt
from tacit.packs.definition import Item, Pack


@dataclass(frozen=True)
class ObservedStep:
    n: int
    action: str
    key_point: str
    reason: str
    practise: bool
    start: float | None  # seconds in the recording
    href: str

    @property
    def time(self) -> str:
        return timefmt.clock(self.start) if self.start is not None else ""


@dataclass(frozen=True)
class Observed:
    session: str
    expert_name: str
    task: str
    href: str  # the recording, from its start
    steps: tuple[ObservedStep, ...]


@dataclass(frozen=True)
class Scheduled:
    """An observation or practice task: the coach's item, or one made from a `practise` step."""

    item: Item
    observed: Observed | None = None
    step: int | None = None
    added: bool = False  # True: from a session step pack.md does not list yet


class ObservedSessions:
    """Observation sessions as the pack shows them: recording link and the observed steps."""

    def __init__(self, sessions: Any, people: Any, links: Any, redact: Any, warnings: list[str]):
        self.sessions = sessions
        self.people = people
        self.links = links
        self.redact = redact
        self.warnings = warnings

    def withheld(self, item: Item) -> bool:
        """An item on a session whose consent was refused or withdrawn: left out whole (its
        text was taken from that session), with a warning that says so."""
        session = self.sessions.get(item.session) if item.session else None
        if session is None or not session.withheld:
            return False
        self.warnings.append(
            f"pack.md line {item.line}: session {item.session} has consent "
            f"{session.consent_status}: left out of the pack"
        )
        return True

    def get(self, session_id: str, item: Item) -> Observed | None:
        session = self.sessions.get(session_id)
        if session is None:
            self.warnings.append(f"pack.md line {item.line}: no session {session_id!r}")
            return None
        if session.restricted or session.withheld:
            self.warnings.append(
                f"pack.md line {item.line}: session {session_id} is restricted: left out"
            )
            return None
        steps = []
        for step in sorted(session.steps, key=lambda s: (s.at, s.n)):
            start, href = self.links.session_media(session, step.at)
            steps.append(
                ObservedStep(
                    n=step.n,
                    action=self.redact(step.action),
                    key_point=self.redact(step.key_point),
                    reason=self.redact(step.reason),
                    practise=step.practise,
                    start=start,
                    href=href,
                )
            )
        expert = self.people.get(session.expert)
        return Observed(
            session=session.id,
            expert_name=expert.name if expert else session.expert,
            task=self.redact(session.task or session.title or session.id),
            href=self.links.session_media(session, None)[1],
            steps=tuple(steps),
        )

    def scheduled(self, item: Item) -> Scheduled:
        observed = self.get(item.session, item) if item.session else None
        if observed and item.step is not None and item.step not in {s.n for s in observed.steps}:
            self.warnings.append(
                f"pack.md line {item.line}: {item.session} has no step {item.step}"
            )
        return Scheduled(item=item, observed=observed, step=item.step)


def practice_tasks(pack: Pack, observed: ObservedSessions, sessions: Any) -> tuple[Scheduled, ...]:
    """The coach's practice tasks, then every `practise` step of the pack's experts'
    observation sessions that pack.md does not list yet (observation is followed by practice:
    such a task falls in the week after the pack schedules watching that session)."""
    tasks = [observed.scheduled(i) for i in pack.items("practice") if not observed.withheld(i)]
    listed = {(t.item.session, t.item.step) for t in tasks}
    watched = {i.session: i.week for i in pack.items("observations") if i.session and i.week}
    for session in sessions.values():
        if session.kind != "observation" or session.restricted or session.withheld:
            continue
        if session.expert not in pack.experts:
            continue
        week = min(watched[session.id] + 1, pack.weeks) if session.id in watched else None
        for step in session.steps:
            if not step.practise or (session.id, step.n) in listed:
                continue
            item = Item(
                text=observed.redact(step.action),
                markdown="",
                line=0,
                week=week,
                session=session.id,
                step=step.n,
            )
            shown = observed.get(session.id, item)
            tasks.append(Scheduled(item=item, observed=shown, step=step.n, added=True))
    return tuple(tasks)
