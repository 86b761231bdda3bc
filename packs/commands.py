"""Commands: pack new, build, checkpoint, status, report, list, templates."""

from __future__ import annotations

import datetime as dt

import typer

from tacit.admin import pending
from tacit.core import workspace
from tacit.core.errors import UsageError
from tacit.core.output import message, out, print_json, table
from tacit.options import JSON

pack_app = typer.Typer(
    no_args_is_help=True,
    help="Onboarding packs: learning plans with cited knowledge, practice and checkpoints.",
)

AS_OF = typer.Option(
    None, "--as-of", help="Judge dates as of this day, YYYY-MM-DD (default: today)."
)


def _day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} must be a date YYYY-MM-DD, not {value!r}") from None


@pack_app.command("new")
def new_command(
    name: str = typer.Argument(..., help="The pack's name (a folder under packs/)."),
    role: str = typer.Option(..., "--role", help="The role the protégé is learning."),
    protege: str = typer.Option(..., "--protege", help="Who follows the plan."),
    mentor: str = typer.Option(..., "--mentor", help="Who mentors them."),
    start: str = typer.Option(..., "--start", help="First day of the plan, YYYY-MM-DD."),
    weeks: int = typer.Option(..., "--weeks", min=1, help="Length of the plan in weeks."),
    template: str = typer.Option(
        "new-starter", "--template", help="A template from `tacit pack templates`."
    ),
    expert: list[str] = typer.Option(
        None, "--expert", help="An expert whose knowledge the pack passes on (slug; repeat)."
    ),
) -> None:
    """Write packs/NAME/pack.md from a template, for the coach to edit."""
    from tacit.packs import create

    ws = workspace.current()
    with pending.writer_lock(ws):
        path = create.new(
            ws,
            workspace.safe_name(name, "pack name"),
            role=role,
            protege=protege,
            mentor=mentor,
            start=_day(start, "--start"),
            weeks=weeks,
            template=template,
            experts=tuple(expert or ()),
        )
    typer.echo(str(path))
    message(f"edit it, then run: tacit pack build {name}")


@pack_app.command("build")
def build_command(
    name: str = typer.Argument(..., help="The pack's name."),
    bundle: bool = typer.Option(
        False,
        "--bundle",
        help="Also write build/NAME-bundle/ and its .zip: the page with audio clips, offline.",
    ),
) -> None:
    """Write build/pack.md and a self-contained build/pack.html, every excerpt cited.

    With --bundle, also a folder and a .zip to hand to the new hire: the page and a short clip
    of each cited excerpt (consented, unrestricted sessions only), working anywhere offline."""
    from rich.progress import Progress

    from tacit.core.output import err
    from tacit.packs import build, definition, render

    ws = workspace.current()
    with pending.writer_lock(ws):
        pack = definition.load(ws, name)
        answerer = build.KBAnswerer(ws)
        try:
            from tacit.ask import warm

            with warm.loading("loading the knowledge base…"):
                answerer.retriever.warm()  # the model and stores, before the first topic
            with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
                task = bar.add_task("topics", total=len(pack.items("topics")) or 1)

                def step(done: int, total: int, text: str) -> None:
                    bar.update(task, completed=done - 1, total=total, description=text[:40])

                built = build.build(ws, pack, answerer, progress=step)
        finally:
            answerer.close()
        paths = render.write(ws, built)
        if bundle:
            from tacit.packs import bundle as bundle_core

            made = bundle_core.write(ws, built)
    for warning in built.warnings:
        message(f"warning: {warning}")
    answered = len(built.topics) - len(built.gaps)
    message(f"{answered} of {len(built.topics)} topics answered; gaps: {len(built.gaps)}")
    for path in paths[:2]:
        typer.echo(str(path))
    if bundle:
        if made.left_out:
            message(
                f"bundle: left out {len(made.left_out)} session(s) without consent to share: "
                + ", ".join(made.left_out)
            )
        message(f"bundle: {len(made.clips)} clip(s); hand out the .zip, it works offline")
        typer.echo(str(made.folder))
        typer.echo(str(made.archive))


@pack_app.command("checkpoint")
def checkpoint_command(
    name: str = typer.Argument(..., help="The pack's name."),
    checkpoint: str = typer.Argument(..., help="The checkpoint's id (see `tacit pack status`)."),
    by: str = typer.Option(..., "--by", help="The reviewing expert (slug), or the named reviewer."),
    outcome: str = typer.Option(None, "--outcome", help="passed or redo."),
    note: str = typer.Option("", "--note", help="What was seen; what to work on."),
    date: str = typer.Option(None, "--date", help="Day of the review, YYYY-MM-DD (default today)."),
    planned: bool = typer.Option(
        False, "--planned", help="A review to come on --date (no outcome yet)."
    ),
) -> None:
    """Record a checkpoint review (passed or redo) with its date, or plan one (--planned).

    Every review is kept: `pack status --json` and `pack report` give the history."""
    from tacit.packs import checkpoints

    ws = workspace.current()
    with pending.writer_lock(ws):
        review = checkpoints.record(
            ws,
            name,
            checkpoint,
            by=by,
            outcome=outcome,
            note=note,
            date=_day(date, "--date"),
            planned=planned,
        )
    message(f"recorded: {checkpoint} {review.outcome} on {review.date.isoformat()} by {review.by}")


@pack_app.command("status")
def status_command(
    name: str = typer.Argument(..., help="The pack's name."),
    as_of: str = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Each checkpoint: on time, late or done."""
    from tacit.packs import checkpoints

    state = checkpoints.status(workspace.current(), name, _day(as_of, "--as-of"))
    if as_json:
        print_json(state.to_json())
        return
    from rich.table import Table

    grid = Table(title=f"{state.name}: {state.protege}, as of {state.today.isoformat()}")
    for column in ("checkpoint", "week", "due", "reviewer", "state", "outcome", "reviewed"):
        grid.add_column(column, no_wrap=column in ("checkpoint", "due", "state", "reviewed"))
    style = {checkpoints.LATE: "red", checkpoints.DONE: "green"}
    for c in state.checkpoints:
        grid.add_row(
            c.id,
            str(c.week),
            c.due.isoformat(),
            c.reviewer,
            f"[{style[c.state]}]{c.state}[/]" if c.state in style else c.state,
            c.outcome or "-",
            c.reviewed_on.isoformat() if c.reviewed_on else "-",
        )
    out.print(grid)


@pack_app.command("report")
def report_command(
    name: str = typer.Argument(..., help="The pack's name."),
    as_of: str = AS_OF,
) -> None:
    """Write the mentor's progress report (build/report.md): covered, outcomes, gaps, next."""
    from tacit.packs import progress

    ws = workspace.current()
    with pending.writer_lock(ws):
        path = progress.write(ws, name, _day(as_of, "--as-of"))
    typer.echo(str(path))


@pack_app.command("list")
def list_command(
    stalled_days: int = typer.Option(
        None,
        "--stalled-days",
        min=1,
        help="No review for this many days is stalled (default: packs.stalled_days, 21).",
    ),
    as_of: str = AS_OF,
    as_json: bool = JSON,
) -> None:
    """The mentoring programme: every pack's protégé, mentor, week, checkpoints and state
    (on track, late, stalled, done)."""
    from tacit.packs import programme

    rows = programme.programme(workspace.current(), _day(as_of, "--as-of"), stalled_days)
    if as_json:
        print_json([p.to_json() for p in rows])
        return
    table(
        None,
        ["pack", "protégé", "mentor", "week", "done", "late", "redo", "state", "last review"],
        [
            [
                p.name,
                p.protege,
                p.mentor,
                f"{p.week}/{p.weeks}",
                f"{p.done}/{p.total}",
                p.late,
                p.redo,
                p.state,
                p.last_review or "-",
            ]
            for p in rows
        ],
    )


@pack_app.command("templates")
def templates_command(as_json: bool = JSON) -> None:
    """The pack templates `tacit pack new --template` can start from."""
    from tacit.packs import create

    found = create.templates()
    if as_json:
        print_json([{"name": t.name, "summary": t.summary} for t in found])
        return
    for t in found:
        out.print(f"{t.name}: {t.summary}", markup=False)


def mount(app: typer.Typer) -> None:
    app.add_typer(pack_app, name="pack")
