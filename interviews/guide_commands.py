"""`tacit guide`: list, show, new and check interview and observation guides."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from tacit.core import workspace
from tacit.core.errors import GuideError
from tacit.core.output import clean, message, out, print_json
from tacit.options import JSON
from tacit.records import guides

guide_app = typer.Typer(
    help="Guides: the Markdown question lists that interviews and observations follow.",
    no_args_is_help=True,
)


@guide_app.command("list")
def guide_list(as_json: bool = JSON) -> None:
    """List guides: the knowledge base's own (guides/) first, then the built-in ones."""
    entries = guides.available(workspace.current())
    if as_json:
        print_json(
            [
                {
                    "name": e.name,
                    "source": "built-in" if e.builtin else "kb",
                    "shadows_builtin": e.shadows,
                    "path": str(e.path),
                    "problems": e.problems,
                    "kind": e.guide.kind if e.guide else None,
                    "title": e.guide.title if e.guide else None,
                    "minutes": e.guide.minutes if e.guide else None,
                    "questions": len(e.guide.questions()) if e.guide else None,
                }
                for e in entries
            ]
        )
        return
    from rich.table import Table

    grid = Table(header_style="bold")
    grid.add_column("name", no_wrap=True)
    grid.add_column("kind", no_wrap=True)
    for column in ("title", "minutes", "questions", "source"):
        grid.add_column(column, overflow="fold")
    for e in entries:
        source = "built-in" if e.builtin else ("kb, shadows built-in" if e.shadows else "kb")
        if e.problems or e.guide is None:
            grid.add_row(e.name, "", f"{e.problems} problem(s): tacit guide check", "", "", source)
            continue
        g = e.guide
        grid.add_row(e.name, g.kind, g.title, str(g.minutes), str(len(g.questions())), source)
    out.print(grid)


@guide_app.command("show")
def guide_show(name: str, as_json: bool = JSON) -> None:
    """Show a guide: sections, questions with their ids, why each is asked, probes."""
    guide = guides.get(workspace.current(), name)
    if as_json:
        print_json(guide.to_json())
        return
    source = "built-in" if guide.builtin else str(guide.path)
    heading = f"{guide.title} ({guide.name}, {guide.kind}, ~{guide.minutes} min)"
    out.print(Text(heading, style="bold"))
    out.print(Text(f"source: {source}"))
    if guide.method:
        out.print(Text(f"method: {guide.method}"))
    out.print(Text(f"purpose: {guide.purpose}"))
    for section in guide.sections:
        label = " (prompts for each logged step)" if section.slug == guide.steps_section else ""
        out.print()
        out.print(Text(f"## {section.title}{label}", style="bold"))
        for question in section.questions:
            out.print(Text(f"{question.id}  {question.text}"))
            if question.why:
                out.print(Text(f"    why: {question.why}", style="italic"))
            for probe in question.probes:
                out.print(Text(f"    - {probe}"))


@guide_app.command("new")
def guide_new(
    name: str = typer.Argument(..., help="The new guide's name (a slug, e.g. pump-room-walk)."),
    from_guide: str = typer.Option(
        None, "--from", help="Copy this guide (default: the built-in of the same name, if any)."
    ),
) -> None:
    """Create guides/NAME.md in the knowledge base for you to edit; it shadows a built-in."""
    ws = workspace.current()
    with workspace.records_lock(ws):
        path = guides.new(ws, name, from_guide)
    message(f"created {path}; edit it, then check it with `tacit guide check {path}`")
    typer.echo(str(path))


@guide_app.command("check")
def guide_check(
    target: str = typer.Argument(..., help="A guide file, or the name of a guide."),
    as_json: bool = JSON,
) -> None:
    """Report every problem in a guide, each with its line number."""
    path = Path(target)
    if not path.is_file():
        path, _builtin = guides.locate(workspace.current(), target)
    problems = guides.check(path)
    if as_json:
        listed = [p.__dict__ for p in problems]
        print_json({"path": str(path), "ok": not problems, "problems": listed})
    else:
        for problem in problems:
            typer.echo(clean(f"{path}:{problem.line}: {problem.message}"))
    if problems:
        raise GuideError(f"{path}: {len(problems)} problem(s)")
    if not as_json:
        message(f"{path}: ok")
