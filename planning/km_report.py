"""The KM report: risk, coverage, protégé demand, packs and their checkpoints, as Markdown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tacit.core.fileio import atomic_write
from tacit.core.htmlrender import escape_md, markdown_to_html, page
from tacit.core.workspace import Workspace
from tacit.planning import risk
from tacit.records import questions


@dataclass(frozen=True)
class Demand:
    asked: int
    answered: int
    not_captured: tuple[str, ...]

    @property
    def share_answered(self) -> float:
        return round(self.answered / self.asked, 3) if self.asked else 0.0


def protege_demand(ws: Workspace) -> Demand:
    logged, _ = questions.entries(ws)
    missing = [str(entry.get("question", "")) for entry in logged if entry.get("not_captured")]
    return Demand(len(logged), len(logged) - len(missing), tuple(missing))


def _pack_lines(ws: Workspace) -> list[str]:
    try:
        from tacit.packs import checkpoints
    except ImportError:
        return ["No packs yet."]
    lines: list[str] = []
    for status in checkpoints.all_status(ws):
        lines.append(f"### {escape_md(status.name)}")
        lines.append("")
        lines.append("| checkpoint | week | due | reviewer | state | outcome |")
        lines.append("|---|---|---|---|---|---|")
        for c in status.checkpoints:
            lines.append(
                f"| {escape_md(c.title)} | {c.week} | {c.due} | {escape_md(c.reviewer)} "
                f"| {c.state} | {escape_md(c.outcome or '')} |"
            )
        lines.append("")
    return lines or ["No packs yet."]


def _cell(value: object) -> str:
    return escape_md(str(value)) if value not in (None, "") else "-"


@dataclass(frozen=True)
class Figures:
    points: tuple  # figures.Point, experts still here
    timeline: tuple  # figures.Row
    planned: tuple  # backlog.PlannedSession
    left: tuple  # risk.RiskRow of experts who have left


def figure_data(ws: Workspace, rows: list, today: dt.date) -> Figures:
    """What the risk matrix and the capture timeline show (and their tables repeat)."""
    from tacit.planning import backlog, figures
    from tacit.records import sessions as sessions_module

    planned = backlog.plan(ws, weeks=PLAN_WEEKS, today=today)
    points = tuple(
        figures.Point(
            r.expert.slug,
            r.expert.name,
            r.attrition,
            r.position_risk,
            _uncaptured(r),
            r.coverage.share,
        )
        for r in rows
        if not r.left
    )
    held: dict[str, list[dt.date]] = {}
    for session in sessions_module.list_all(ws):
        day = _day_of(session.started)
        if day is not None and not session.withheld:
            held.setdefault(session.expert, []).append(day)
    timeline = tuple(
        figures.Row(
            r.expert.name,
            r.expert.leaving_on,
            tuple(sorted(held.get(r.expert.slug, []))),
            tuple(p.date for p in planned if p.expert == r.expert.slug),
        )
        for r in rows
    )
    return Figures(points, timeline, tuple(planned), tuple(r for r in rows if r.left))


PLAN_WEEKS = 4


def _uncaptured(row) -> int:
    c = row.coverage
    return len(c.topics_without_evidence) + len(c.open_questions) + len(c.protege_questions)


def _day_of(started: str) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(started).date()
    except (TypeError, ValueError):
        return None


def _figure_tables(data: Figures) -> list[str]:
    out = [
        "## Risk matrix",
        "",
        "| expert | attrition | position risk | uncaptured | coverage |",
        "|---|---|---|---|---|",
    ]
    for p in data.points:
        out.append(
            f"| {_cell(p.name)} | {p.attrition} | {p.position} | {p.uncaptured} | "
            f"{p.coverage:.0%} |"
        )
    out += [f"- left, not plotted: {escape_md(r.expert.name)} ({r.left_on})" for r in data.left]
    out += [
        "",
        "## Capture timeline",
        "",
        "| expert | leaving on | sessions held | sessions planned |",
        "|---|---|---|---|",
    ]
    for row in data.timeline:
        out.append(
            f"| {_cell(row.name)} | {_cell(row.leaving_on)} | "
            f"{_cell(', '.join(d.isoformat() for d in row.held))} | "
            f"{_cell(', '.join(d.isoformat() for d in row.planned))} |"
        )
    return [*out, ""]


def _backlog_lines(data: Figures) -> list[str]:
    out = ["## Capture backlog", ""]
    if not data.planned:
        out.append("Nothing to schedule: every expert is covered or has left.")
    else:
        out += [
            "| week | date | expert | guide | why | before they leave |",
            "|---|---|---|---|---|---|",
        ]
        for p in data.planned:
            out.append(
                f"| {p.week} | {p.date.isoformat()} | {_cell(p.name)} | {_cell(p.guide)} | "
                f"{_cell(p.why)} | {'yes' if p.before_departure else '**no**'} |"
            )
    out += [f"- left, not scheduled: {escape_md(r.expert.name)} ({r.left_on})" for r in data.left]
    return [*out, ""]


def _mentoring_lines(ws: Workspace, today: dt.date) -> list[str]:
    from tacit.packs import programme

    rows = programme.programme(ws, today)
    out = ["## Mentoring", ""]
    if not rows:
        return [*out, "No packs yet.", ""]
    out += [
        "| pack | protégé | mentor | week | passed | late | redo | state |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in rows:
        out.append(
            f"| {_cell(p.name)} | {_cell(p.protege)} | {_cell(p.mentor)} | {p.week}/{p.weeks} | "
            f"{p.done}/{p.total} | {p.late} | {p.redo} | {p.state} |"
        )
    done = programme.outcomes(rows)
    out += [
        "",
        f"{done.reviewed} checkpoints reviewed; {done.passed_first_time} passed at the first "
        f"review ({done.share_first_time:.0%}).",
        "",
    ]
    if done.days_to_pass:
        out += ["| pack | checkpoint | days from the start to its pass |", "|---|---|---|"]
        out += [f"| {_cell(p)} | `{c}` | {d} |" for p, c, d in done.days_to_pass]
        out.append("")
    return out


def build_markdown(ws: Workspace, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    rows = risk.assess(ws, today)
    demand = protege_demand(ws)
    data = figure_data(ws, rows, today)
    out = [
        f"# Knowledge-loss report: {escape_md(ws.config.name)}",
        "",
        f"Generated {today.isoformat()}.",
        "",
        *_figure_tables(data),
        "## Risk",
        "",
        "| expert | role | leaving on | days | attrition | position | score | band | flag |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        days = "left" if r.left else _cell(r.days_to_departure)
        attrition, score = ("-", "-") if r.left else (r.attrition, r.score)
        out.append(
            f"| {_cell(r.expert.name)} | {_cell(r.expert.role)} | "
            f"{_cell(r.expert.leaving_on)} | {days} | {attrition} | "
            f"{r.position_risk} | {score} | {r.band} | "
            f"{'high risk, low coverage' if r.flag else ''} |"
        )
    out += [
        "",
        "## Coverage",
        "",
        "| expert | sessions | observations | hours | sections answered | coverage "
        "| open questions | topics without evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r.coverage
        out.append(
            f"| {_cell(r.expert.name)} | {c.sessions} | {c.observations} | "
            f"{c.hours_recorded:.2f} | {c.sections_answered}/{c.sections_total} | "
            f"{c.share:.0%} | {len(c.open_questions) + len(c.protege_questions)} | "
            f"{_cell(', '.join(c.topics_without_evidence))} |"
        )
    out += [
        "",
        "## Protégé demand",
        "",
        f"{demand.asked} questions asked; {demand.answered} answered from the knowledge base "
        f"({demand.share_answered:.0%}).",
        "",
    ]
    out += [f"- not captured: {escape_md(q)}" for q in demand.not_captured]
    out += ["", *_backlog_lines(data), *_mentoring_lines(ws, today)]
    out += ["## Packs and checkpoints", "", *_pack_lines(ws)]
    from tacit.records.redaction import (
        mask,  # redaction covers the report: topics, questions, notes
    )

    return mask(ws, "\n".join(out).rstrip() + "\n")


def figures_html(ws: Workspace, today: dt.date | None = None) -> str:
    """The risk matrix and the capture timeline as inline SVG (masked like the report)."""
    from dataclasses import replace

    from tacit.planning import figures
    from tacit.records import redaction

    today = today or dt.date.today()
    data = figure_data(ws, risk.assess(ws, today), today)
    redact = redaction.redactor(ws.config)  # names are masked as in the tables; the SVG is not
    points = [replace(p, name=redact(p.name)) for p in data.points]
    rows = [replace(r, name=redact(r.name)) for r in data.timeline]
    risk_cfg = ws.config.risk
    matrix = figures.risk_matrix(points, risk_cfg["high"], risk_cfg["medium"])
    timeline = figures.capture_timeline(rows, today)
    return (
        '<figure class="figures"><figcaption>Risk matrix (the tables below give the same '
        f"figures)</figcaption>{matrix}</figure>\n"
        f"<figure><figcaption>Capture timeline</figcaption>{timeline}</figure>\n"
    )


def _with_figures(body: str, ws: Workspace, today: dt.date | None) -> str:
    """The page opens with the figures: after the title and the generated line."""
    head, mark, rest = body.partition("</p>\n")
    shown = figures_html(ws, today)
    return f"{head}{mark}{shown}{rest}" if mark else shown + body


def write(ws: Workspace, as_html: bool, today: dt.date | None = None) -> list:
    """Write reports/km-report.md (and .html); return the paths written."""
    text = build_markdown(ws, today)
    folder = ws.root / "reports"
    written = [folder / "km-report.md"]
    atomic_write(written[0], text)
    if as_html:
        body = _with_figures(markdown_to_html(text, base=folder, kb_root=ws.root), ws, today)
        written.append(folder / "km-report.html")
        atomic_write(written[1], page(f"Knowledge-loss report: {ws.config.name}", body))
    return written
