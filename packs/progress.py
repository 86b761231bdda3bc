"""`tacit pack report`: the mentor's progress report for one pack, as Markdown.

It reads the plan (pack.md), the sign-offs (reviews.yaml) and the last build's summary, so it
needs no model: what was covered so far, checkpoint outcomes, open gaps, next steps.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tacit.core.fileio import atomic_write
from tacit.core.htmlrender import escape_md
from tacit.core.workspace import Workspace
from tacit.packs import checkpoints as checkpoints_module
from tacit.packs.checkpoints import DONE, LATE, PackStatus
from tacit.packs.definition import Pack, load
from tacit.packs.render import SUMMARY_FILE

REPORT_FILE = "report.md"


def _summary(pack: Pack) -> dict | None:
    path = pack.build_dir / SUMMARY_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # a damaged cache: the report says to rebuild
    return data if isinstance(data, dict) else None


def _where_in_plan(pack: Pack, today: dt.date) -> tuple[int, str]:
    week = pack.week_of(today)
    if week == 0:
        return 0, f"The plan starts on {pack.start.isoformat()}."
    if week > pack.weeks:
        return pack.weeks, f"The plan ended on {pack.end.isoformat()}."
    return week, f"Week {week} of {pack.weeks}."


def markdown(ws: Workspace, name: str, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    pack = load(ws, name)
    state = checkpoints_module.pack_status(ws, pack, checkpoints_module.load_reviews(pack), today)
    summary = _summary(pack)
    week, where = _where_in_plan(pack, today)
    title = escape_md(pack.title) if pack.title else f"Onboarding pack: {escape_md(pack.role)}"
    built = f"built {summary['built']}" if summary else "not built yet"
    lines = [
        f"# Progress report: {title}",
        "",
        f"- Protégé: {escape_md(pack.protege)}",
        f"- Mentor: {escape_md(pack.mentor)}",
        f"- As of {today.isoformat()}: {where}",
        f"- Pack {built}.",
        "",
    ]
    lines += _covered(pack, week, state, summary)
    lines += _outcomes(state)
    lines += _gaps(state, summary)
    lines += _next_steps(pack, week, state, summary, today)
    return "\n".join(lines).rstrip() + "\n"


def _topic_states(summary: dict | None) -> dict[str, dict]:
    if not summary:
        return {}
    return {str(t.get("topic")): t for t in summary.get("topics", []) if isinstance(t, dict)}


def _covered(pack: Pack, week: int, state: PackStatus, summary: dict | None) -> list[str]:
    lines = ["## What was covered", ""]
    if week == 0:
        return [*lines, "Nothing yet: the plan has not started.", ""]
    lines += [f"Scheduled in weeks 1 to {week}:", ""]
    topics = _topic_states(summary)
    entries: list[tuple[int, str]] = []
    for item in pack.items("topics"):
        if item.week and item.week <= week:
            entries.append((item.week, f"Topic: {item.markdown} ({_how(topics.get(item.text))})"))
    for section, label in (
        ("observations", "Observation"),
        ("practice", "Practice"),
        ("deliverables", "Deliverable"),
    ):
        for item in pack.items(section):
            if item.week and item.week <= week:
                entries.append((item.week, f"{label}: {item.markdown}"))
    # in the plan's order: week by week, and within a week as pack.md lists them
    lines += [f"- Week {w}, {text[0].lower()}{text[1:]}" for w, text in _by_week(entries)]
    passed = [c for c in state.checkpoints if c.state == DONE]
    lines += ["", f"Checkpoints passed: {len(passed)} of {len(state.checkpoints)}.", ""]
    return lines


def _by_week(entries: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return sorted(entries, key=lambda entry: entry[0])


def _how(found: dict | None) -> str:
    if found is None:
        return "not in the last build"
    if not found.get("captured"):
        return "a gap: not in the knowledge base"
    n = len(found.get("citations", []))
    return f"answered from {n} cited excerpt{'' if n == 1 else 's'}"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _outcomes(state: PackStatus) -> list[str]:
    lines = ["## Checkpoint outcomes", ""]
    if not state.checkpoints:
        return [*lines, "The pack has no checkpoints.", ""]
    lines += [
        "| checkpoint | week | due | reviewer | state | outcome | reviewed | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in state.checkpoints:
        reviewed = f"{c.reviewed_on.isoformat()} by {escape_md(c.by)}" if c.reviewed_on else "-"
        lines.append(
            f"| `{c.id}`: {escape_md(c.title)} | {c.week} | {c.due.isoformat()} | "
            f"{escape_md(c.reviewer)} | {c.state} | {c.outcome or 'not reviewed'} | {reviewed} | "
            f"{escape_md(c.note) or '-'} |"
        )
    return [*lines, "", *_history(state)]


def _history(state: PackStatus) -> list[str]:
    """Every review, oldest first: a redo and its note stay after the pass that followed."""
    reviews = [(c, r) for c in state.checkpoints for r in c.history]
    if not reviews:
        return []
    lines = [
        "### Review history",
        "",
        "| date | checkpoint | outcome | by | note |",
        "|---|---|---|---|---|",
    ]
    for c, r in sorted(reviews, key=lambda pair: pair[1].date):
        lines.append(
            f"| {r.date.isoformat()} | `{c.id}` | {r.outcome} | {escape_md(r.by)} | "
            f"{escape_md(r.note) or '-'} |"
        )
    return [*lines, ""]


def _gaps(state: PackStatus, summary: dict | None) -> list[str]:
    lines = ["## Open gaps", ""]
    found = []
    gaps = [t for t in _topic_states(summary).values() if not t.get("captured")]
    for topic in sorted(gaps, key=lambda t: t.get("week") or 0):
        ask = "; ".join(str(a) for a in topic.get("ask", []))
        who = f" Most likely to know: {escape_md(ask)}." if ask else ""
        text = _sentence(escape_md(str(topic["topic"])))
        found.append(f"- Week {topic.get('week')}: {text}{who}")
    for c in state.checkpoints:
        if c.state == LATE:
            why = "sent back for a redo" if c.outcome == "redo" else "not reviewed"
            found.append(f"- Checkpoint `{c.id}` is late ({why}; due {c.due.isoformat()}).")
    if summary is None:
        found.append("- The pack is not built, so its topics are not checked against the KB.")
    return [*lines, *(found or ["None."]), ""]


def _next_steps(
    pack: Pack, week: int, state: PackStatus, summary: dict | None, today: dt.date
) -> list[str]:
    steps = []
    for c in state.checkpoints:
        if c.state == LATE:
            days = (today - c.due).days
            steps.append(
                f"Review `{c.id}` with {escape_md(c.reviewer)} first: {days} days past due."
            )
        elif c.outcome == "redo":
            note = f" ({escape_md(c.note)})" if c.note else ""
            steps.append(f"Retry `{c.id}` with {escape_md(c.reviewer)}{note}.")
    soon = [c for c in state.checkpoints if c.state != DONE and 0 <= (c.due - today).days <= 7]
    steps += [
        f"Prepare `{c.id}` (due {c.due.isoformat()}, reviewer {escape_md(c.reviewer)})."
        for c in soon
        if c.outcome != "redo"
    ]
    if 0 < week < pack.weeks or week == 0:
        upcoming = [i for i in pack.items("topics") if i.week == week + 1]
        if upcoming:
            steps.append(f"Week {week + 1} topics: " + "; ".join(i.markdown for i in upcoming))
    gaps = [t for t in _topic_states(summary).values() if not t.get("captured")]
    if gaps:
        steps.append(
            f"Take the {len(gaps)} open gaps to the experts in person, and capture the answers "
            "(`tacit expert agenda` lists them)."
        )
    if summary is None or _stale(pack):
        steps.append(f"Rebuild the pack: `tacit pack build {pack.name}`.")
    if state.checkpoints and all(c.state == DONE for c in state.checkpoints):
        steps.append("Every checkpoint is passed: agree the end of the plan with the mentor.")
    steps = steps or ["Keep to the plan: nothing is late or open."]
    return ["## Next steps", "", *(f"{n}. {s}" for n, s in enumerate(steps, 1))]


def _stale(pack: Pack) -> bool:
    built = pack.build_dir / "pack.md"
    return not built.is_file() or pack.path.stat().st_mtime > built.stat().st_mtime


def write(ws: Workspace, name: str, today: dt.date | None = None) -> Path:
    """packs/NAME/build/report.md. The caller holds the writer lock."""
    pack = load(ws, name)
    path = pack.build_dir / REPORT_FILE
    atomic_write(path, markdown(ws, name, today))
    return path
