"""The mentoring programme: every pack's progress, for `tacit pack list` and the KM report.

A pack is *done* when every checkpoint is passed; *stalled* when its plan has started and no
checkpoint was reviewed for `[packs] stalled_days` (from the last review, or from the start when
there is none); *late* when a checkpoint is past due and not passed; else *on track*.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tacit.core.workspace import Workspace
from tacit.packs import checkpoints
from tacit.packs.checkpoints import DONE, LATE, OUTCOMES, CheckpointStatus
from tacit.packs.definition import load, names

ON_TRACK, STALLED = "on track", "stalled"


@dataclass(frozen=True)
class Progress:
    name: str
    protege: str
    mentor: str
    start: dt.date
    week: int  # of the plan, 0 before it starts, weeks after it ends
    weeks: int
    done: int
    late: int
    redo: int  # checkpoints whose latest outcome is redo
    total: int
    state: str  # on track | late | stalled | done
    last_review: dt.date | None
    checkpoints: tuple[CheckpointStatus, ...]

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "protege": self.protege,
            "mentor": self.mentor,
            "start": self.start.isoformat(),
            "week": self.week,
            "weeks": self.weeks,
            "total": self.total,
            "done": self.done,
            "late": self.late,
            "redo": self.redo,
            "state": self.state,
            "last_review": self.last_review.isoformat() if self.last_review else None,
            "checkpoints": [c.to_json() for c in self.checkpoints],
        }


def progress(
    ws: Workspace, name: str, today: dt.date | None = None, stalled_days: int | None = None
) -> Progress:
    today = today or dt.date.today()
    stalled_days = stalled_days or ws.config.section("packs")["stalled_days"]
    pack = load(ws, name)
    status = checkpoints.pack_status(ws, pack, checkpoints.load_reviews(pack), today)
    rows = status.checkpoints
    held = [r.date for c in rows for r in c.history if r.outcome in OUTCOMES and r.date <= today]
    last = max(held, default=None)
    done = sum(c.state == DONE for c in rows)
    late = sum(c.state == LATE for c in rows)
    quiet = (today - (last or pack.start)).days
    if rows and done == len(rows):
        state = DONE
    elif today >= pack.start and quiet > stalled_days:
        state = STALLED
    elif late:
        state = LATE
    else:
        state = ON_TRACK
    return Progress(
        name=pack.name,
        protege=pack.protege,
        mentor=pack.mentor,
        start=pack.start,
        week=min(pack.week_of(today), pack.weeks),
        weeks=pack.weeks,
        done=done,
        late=late,
        redo=sum(c.outcome == "redo" for c in rows),
        total=len(rows),
        state=state,
        last_review=last,
        checkpoints=rows,
    )


def programme(
    ws: Workspace, today: dt.date | None = None, stalled_days: int | None = None
) -> list[Progress]:
    """Every pack in the KB, in name order."""
    return [progress(ws, name, today, stalled_days) for name in names(ws)]


@dataclass(frozen=True)
class Outcomes:
    """What the programme achieved: time to each checkpoint and passes at the first review."""

    reviewed: int  # checkpoints with at least one outcome
    passed_first_time: int
    days_to_pass: tuple[tuple[str, str, int], ...]  # (pack, checkpoint, days from start)

    @property
    def share_first_time(self) -> float:
        return round(self.passed_first_time / self.reviewed, 3) if self.reviewed else 0.0


def outcomes(rows: list[Progress]) -> Outcomes:
    reviewed = first = 0
    days = []
    for p in rows:
        for c in p.checkpoints:
            if not any(r.outcome in OUTCOMES for r in c.history):
                continue
            reviewed += 1
            first += c.first_time
            if c.passed_on is not None:
                days.append((p.name, c.id, (c.passed_on - p.start).days))
    return Outcomes(reviewed, first, tuple(days))
