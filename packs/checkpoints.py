"""Checkpoint sign-off: reviews recorded in packs/<name>/reviews.yaml, and each checkpoint's state.

A checkpoint of week N is due start + N*7 days. It is *done* once its latest review passed it;
a *redo* or no review at all is *late* after the due date and *on time* until then.
The record is a plain YAML list, one mapping per review, rewritten atomically: it keeps every
review (a redo and the pass that followed), so the history of the mentoring stays readable,
and the status and the mentor's report give that history in full. An outcome is recorded on
or after the day of the review, never for a day to come; a review still to be held is written
with `--planned` (outcome "planned"), shown in the history and as the next review, and it
changes no state.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from tacit.core import validation
from tacit.core.errors import NotFound, TacitError
from tacit.core.fileio import atomic_write
from tacit.core.workspace import Workspace
from tacit.packs.definition import Pack, PackError, load, names
from tacit.records import experts as experts_module

REVIEWS_FILE = "reviews.yaml"
OUTCOMES = ("passed", "redo")
PLANNED = "planned"  # a review set for a later day: no outcome yet
ON_TIME, LATE, DONE = "on time", "late", "done"


@dataclass(frozen=True)
class Review:
    checkpoint: str
    by: str
    outcome: str  # passed | redo | planned
    date: dt.date
    note: str = ""
    recorded: str = ""  # when it was written down (ISO time), which may differ from date

    def to_json(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "by": self.by,
            "outcome": self.outcome,
            "date": self.date.isoformat(),
            "note": self.note,
            "recorded": self.recorded,
        }


@dataclass(frozen=True)
class CheckpointStatus:
    id: str
    title: str  # what the protégé shows
    week: int
    due: dt.date
    reviewer: str  # the reviewer's name when they are an expert in the KB
    state: str  # on time | late | done
    outcome: str = ""  # the latest review's outcome: passed, redo, or "" (not reviewed)
    reviewed_on: dt.date | None = None
    by: str = ""
    note: str = ""
    reviews: int = 0  # outcomes recorded (planned reviews not counted)
    history: tuple[Review, ...] = ()  # every review, oldest first; `by` as a name
    planned_on: dt.date | None = None  # the next planned review not yet held

    @property
    def passed_on(self) -> dt.date | None:
        """The day it was first passed, while it stands passed."""
        if self.state != DONE:
            return None
        held = [r for r in self.history if r.outcome in OUTCOMES]
        redo = max((n for n, r in enumerate(held) if r.outcome == "redo"), default=-1)
        return held[redo + 1].date  # the pass that followed the last redo

    @property
    def first_time(self) -> bool:
        """Passed at its first review, no redo before."""
        held = [r for r in self.history if r.outcome in OUTCOMES]
        return bool(held) and held[0].outcome == "passed" and self.state == DONE

    @property
    def redos(self) -> int:
        return sum(r.outcome == "redo" for r in self.history)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "week": self.week,
            "due": self.due.isoformat(),
            "reviewer": self.reviewer,
            "state": self.state,
            "outcome": self.outcome,
            "reviewed_on": self.reviewed_on.isoformat() if self.reviewed_on else None,
            "by": self.by,
            "note": self.note,
            "reviews": self.reviews,
            "redos": self.redos,
            "passed_first_time": self.first_time,
            "planned_on": self.planned_on.isoformat() if self.planned_on else None,
            "history": [r.to_json() for r in self.history],
        }


@dataclass(frozen=True)
class PackStatus:
    name: str
    protege: str
    mentor: str
    today: dt.date
    checkpoints: tuple[CheckpointStatus, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "protege": self.protege,
            "mentor": self.mentor,
            "today": self.today.isoformat(),
            "checkpoints": [c.to_json() for c in self.checkpoints],
        }


def reviews_path(pack: Pack) -> Path:
    return pack.folder / REVIEWS_FILE


def load_reviews(pack: Pack) -> list[Review]:
    path = reviews_path(pack)
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
        data = validation.load_yaml(text) or []
    except UnicodeDecodeError:
        raise PackError(f"{path}: unreadable review record: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        line, problem = validation.yaml_problem(exc)
        where = f"line {line}: " if line else ""
        raise PackError(f"{path}: {where}unreadable review record: {problem}") from None
    if not isinstance(data, list):
        raise PackError(f"{path}: line 1: must be a list of reviews")
    node = validation.compose_yaml(text)
    items = node.value if isinstance(node, yaml.SequenceNode) else []
    lines = [item.start_mark.line + 1 for item in items]
    return [
        _review(entry, path, n, lines[n - 1] if n <= len(lines) else None)
        for n, entry in enumerate(data, 1)
    ]


@functools.cache
def _review_model():
    """One entry of reviews.yaml as a pydantic record: the sign-off is tacit's own file."""
    from typing import Literal

    from pydantic import Field

    from tacit.core.validation import Name, Record, Text

    class ReviewRecord(Record):
        checkpoint: Name
        by: Name
        outcome: Literal[*OUTCOMES, PLANNED]  # type: ignore[valid-type]
        date: dt.date = Field(strict=False)  # YAML gives a date; a quoted ISO day is one too
        note: Text = ""
        recorded: Text = ""

    return ReviewRecord


def _review(entry: Any, path: Path, n: int, line: int | None) -> Review:
    at = f"line {line}: " if line else ""
    if not isinstance(entry, dict):
        raise PackError(f"{path}: {at}review {n} must be a mapping of keys to values")
    found = validation.check(_review_model(), entry, f"{path}: {at}review {n}", PackError)
    return Review(**found.model_dump())


def record(
    ws: Workspace,
    name: str,
    checkpoint: str,
    *,
    by: str,
    outcome: str,
    note: str = "",
    date: dt.date | None = None,
    planned: bool = False,
) -> Review:
    """Add one review to the pack's record. The caller holds the writer lock."""
    pack = load(ws, name)
    item = next((c for c in pack.items("checkpoints") if c.id == checkpoint), None)
    if item is None:
        ids = ", ".join(c.id for c in pack.items("checkpoints")) or "none"
        raise NotFound(f"pack {name!r} has no checkpoint {checkpoint!r}; its checkpoints: {ids}")
    day = _review_day(outcome, date, planned)
    if planned:
        outcome = PLANNED
    reviewer = _reviewer(ws, by, item.reviewer)
    review = Review(
        checkpoint=checkpoint,
        by=reviewer,
        outcome=outcome,
        date=day,
        note=" ".join(note.split()),
        recorded=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    )
    reviews = [*load_reviews(pack), review]
    text = yaml.safe_dump(
        [r.to_json() for r in reviews], sort_keys=False, allow_unicode=True, width=100
    )
    atomic_write(reviews_path(pack), "# Checkpoint reviews, oldest first.\n" + text)
    return review


def _review_day(outcome: str | None, date: dt.date | None, planned: bool) -> dt.date:
    """Outcomes are for days that came; a review to come is --planned, with its date."""
    from tacit.core.errors import UsageError

    today = dt.date.today()
    if planned:
        if outcome:
            raise UsageError("a --planned review has no --outcome yet")
        if date is None or date < today:
            raise UsageError("--planned needs the --date of the review, today or later")
        return date
    if not outcome:
        raise UsageError("give --outcome passed or redo (or --planned with a --date)")
    if outcome not in OUTCOMES:
        raise TacitError(f"--outcome must be passed or redo, not {outcome!r}")
    day = date or today
    if day > today:
        raise UsageError(
            f"--date {day.isoformat()} is in the future: record the outcome on the day, "
            "or plan the review with --planned"
        )
    return day


def _reviewer(ws: Workspace, by: str, assigned: str) -> str:
    """--by is an expert slug in the KB, or the reviewer named in pack.md (say, the mentor)."""
    by = by.strip()
    if by == assigned:
        return by
    try:
        return experts_module.get(ws, by).slug
    except (NotFound, TacitError):
        raise NotFound(
            f"--by {by!r} is neither an expert in the knowledge base nor the checkpoint's "
            f"reviewer ({assigned})"
        ) from None


def status(ws: Workspace, name: str, today: dt.date | None = None) -> PackStatus:
    pack = load(ws, name)
    return pack_status(ws, pack, load_reviews(pack), today or dt.date.today())


def pack_status(ws: Workspace, pack: Pack, reviews: list[Review], today: dt.date) -> PackStatus:
    people = {e.slug: e.name for e in experts_module.list_all(ws)}
    rows = []
    for item in pack.items("checkpoints"):
        # oldest first by review date; among reviews on one day, in the order written down
        mine = sorted(
            ((r.date, n, r) for n, r in enumerate(reviews) if r.checkpoint == item.id),
            key=lambda entry: entry[:2],
        )
        history = tuple(replace(r, by=people.get(r.by, r.by)) for _d, _n, r in mine)
        own = [r for r in history if r.outcome in OUTCOMES]
        latest = own[-1] if own else None
        ahead = [r.date for r in history if r.outcome == PLANNED and r.date >= today]
        ahead = [d for d in ahead if latest is None or d > latest.date]
        due = pack.due(item.week or pack.weeks)
        if latest is not None and latest.outcome == "passed":
            state = DONE
        else:
            state = LATE if today > due else ON_TIME
        rows.append(
            CheckpointStatus(
                id=item.id,
                title=item.text,
                week=item.week or pack.weeks,
                due=due,
                reviewer=people.get(item.reviewer, item.reviewer),
                state=state,
                outcome=latest.outcome if latest else "",
                reviewed_on=latest.date if latest else None,
                by=latest.by if latest else "",
                note=latest.note if latest else "",
                reviews=len(own),
                history=history,
                planned_on=min(ahead) if ahead else None,
            )
        )
    return PackStatus(pack.name, pack.protege, pack.mentor, today, tuple(rows))


def all_status(ws: Workspace, today: dt.date | None = None) -> list[PackStatus]:
    """Every pack's checkpoints (the KM report's "Packs and checkpoints" section)."""
    return [status(ws, name, today) for name in names(ws)]
