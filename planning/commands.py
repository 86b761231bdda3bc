"""Commands: risk, plan, report."""

from __future__ import annotations

import typer

from tacit.admin import pending
from tacit.core import workspace
from tacit.core.output import message, out, print_json
from tacit.options import JSON
from tacit.planning import backlog, km_report, risk


def risk_command(as_json: bool = JSON) -> None:
    """Experts ranked by knowledge-loss risk, with coverage; flags high risk, low coverage."""
    from rich.table import Table

    rows = risk.assess(workspace.current())
    if as_json:
        print_json([r.to_json() for r in rows])
        return
    grid = Table(header_style="bold")
    for column in ("expert", "days", "attr", "pos", "score", "band", "covered", "open", "flag"):
        grid.add_column(column, no_wrap=column in ("expert", "days", "flag", "covered"))
    for r in rows:
        c = r.coverage
        style = {"high": "red", "medium": "yellow", "left": "dim"}.get(r.band, "")
        if r.left:
            days = f"left {r.left_on}"
        else:
            days = "" if r.days_to_departure is None else str(r.days_to_departure)
        grid.add_row(
            r.expert.name,
            days,
            "" if r.left else str(r.attrition),
            str(r.position_risk),
            "" if r.left else str(r.score),
            f"[{style}]{r.band}[/]" if style else r.band,
            f"{c.share:.0%}",
            str(len(c.open_questions) + len(c.protege_questions)),
            "[bold red]high risk, low coverage[/]" if r.flag else "",
        )
    out.print(grid)


def plan_command(
    weeks: int = typer.Option(4, "--weeks", min=1, help="How many weeks to schedule."),
    as_json: bool = JSON,
) -> None:
    """The capture backlog: whom to see next, with which guide and agenda."""
    from rich.markup import escape

    ws = workspace.current()
    planned = backlog.plan(ws, weeks=weeks)
    if as_json:
        print_json([p.to_json() for p in planned])
        return
    if not planned:
        message("nothing to schedule: every expert is covered or has left")
    for p in planned:
        late = "" if p.before_departure else "  [bold red](after their departure!)[/]"
        out.print(
            f"[bold]week {p.week} · {p.date}[/] {p.name} ({p.band} risk, score {p.score}) "
            f"· guide {p.guide}: {p.why}{late}"
        )
        for item in p.agenda:
            out.print(f"    - {item}", markup=False)
    for r in backlog.departed(ws):
        uncaptured = len(r.coverage.topics_without_evidence)
        out.print(
            f"[dim]left {r.left_on}[/] {escape(r.expert.name)}: not scheduled"
            + (f" ({uncaptured} topic(s) never captured)" if uncaptured else ""),
            highlight=False,
        )


def report_command(
    as_html: bool = typer.Option(False, "--html", help="Also write a self-contained HTML file."),
) -> None:
    """Write the KM report (reports/km-report.md, and .html with --html)."""
    ws = workspace.current()
    with pending.writer_lock(ws):
        written = km_report.write(ws, as_html)
    for path in written:
        typer.echo(str(path))


def mount(app: typer.Typer) -> None:
    app.command("risk")(risk_command)
    app.command("plan")(plan_command)
    app.command("report")(report_command)
