"""`tacit index [--rebuild] [--json]` and `tacit index status [--json]`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from tacit.core import workspace
from tacit.core.output import err, out, print_json
from tacit.options import JSON

index_app = typer.Typer(
    help="The search index (chunks, embeddings, Chroma, BM25): a cache rebuilt from the files.",
)


@contextlib.contextmanager
def _progress_bar() -> Iterator:
    """A rich progress bar on stderr; the core reports (what, done, total)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    tasks: dict[str, int] = {}

    def update(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=total)
        bar.update(tasks[what], completed=done, total=total)

    with bar:
        yield update


def _note(text: str) -> None:
    err.print(text, soft_wrap=True, markup=False)


@index_app.callback(invoke_without_command=True)
def index(
    ctx: typer.Context,
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Drop the index and build it again from the plain files."
    ),
    as_json: bool = JSON,
) -> None:
    """Bring the index up to date with the plain files: embeds only what is new."""
    if ctx.invoked_subcommand is not None:
        return
    from tacit.index import indexer

    ws = workspace.current()
    with workspace.index_lock(ws), _progress_bar() as progress:
        report = indexer.run(ws, rebuild=rebuild, progress=progress, notify=_note)
    if as_json:
        print_json(report.to_json())
        return
    err.print(
        f"indexed {report.chunks} chunks from {report.sessions} sessions in {report.seconds:g} s: "
        f"{report.added} added ({report.embedded} embedded, {report.cached} from cache), "
        f"{report.removed} removed{' (rebuilt)' if report.rebuilt else ''}",
        soft_wrap=True,
        markup=False,
    )


@index_app.command("status")
def status(as_json: bool = JSON) -> None:
    """Sessions, chunks, model, when last indexed, and what is stale."""
    from tacit.index import indexer

    found = indexer.status(workspace.current())
    if as_json:
        print_json(found.to_json())
        return
    rows = [
        ("sessions", f"{found.indexed_sessions} indexed of {found.sessions}"),
        ("chunks", str(found.chunks)),
        ("model", found.model or found.configured_model),
        ("store", found.store),
        ("last indexed", found.last_indexed or "never"),
        ("state", "up to date" if found.up_to_date else "stale"),
    ]
    for name, value in rows:
        out.print(f"{name:>13}: {value}", markup=False, highlight=False)
    for reason in found.stale:
        out.print(f"{'stale':>13}: {reason}", markup=False, highlight=False)


def mount(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
