"""The root Typer app: global options, sub-apps, and the one error boundary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from tacit import __version__
from tacit.core import workspace
from tacit.core.errors import TacitError
from tacit.options import JSON

_debug = False


class TacitGroup(TyperGroup):
    """Turns TacitError into a one-line message and its exit code; Ctrl-C into 130."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TacitError as exc:
            if _debug:
                raise
            # plain writes: a message must stay one line whatever the terminal's width
            sys.stderr.write(f"error: {exc.message}\n")
            if exc.hint:
                sys.stderr.write(f"hint: {exc.hint}\n")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=TacitGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Keep what departing experts know, and ask it with cited answers.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tacit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    kb: Path = typer.Option(
        None, "--kb", help="Knowledge base folder (else $TACIT_KB, else walk up)."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Keep what departing experts know, and ask it with cited answers."""
    global _debug
    _debug = debug
    workspace.set_override(kb)


@app.command()
def init(
    path: Path = typer.Argument(Path("."), help="Folder for the new knowledge base."),
    name: str = typer.Option(None, "--name", help="A name for it (default: the folder's)."),
) -> None:
    """Create a knowledge base (folders 0700, files 0600)."""
    from tacit.core.output import message

    ws = workspace.init(path, name)
    message(f"created knowledge base {ws.config.name!r} at {ws.root}")


@app.command()
def doctor(as_json: bool = JSON) -> None:
    """Check Python, models, audio decoding, the vector store, disk and the KB's files."""
    from tacit.admin import doctor as doctor_core
    from tacit.core.errors import NotAKnowledgeBase
    from tacit.core.output import out, print_json

    try:
        ws = workspace.current()
    except NotAKnowledgeBase:
        ws = None
    checks = doctor_core.run(ws)
    failed = [c for c in checks if not c.ok]
    if as_json:
        print_json({"ok": not failed, "checks": [c.__dict__ for c in checks]})
    else:
        for check in checks:
            mark = (
                "[yellow]warn[/]"
                if check.warning
                else ("[green]ok[/]" if check.ok else "[red]FAIL[/]")
            )
            out.print(f"{mark:>4} {check.name}: {check.detail}", highlight=False, soft_wrap=True)
            if check.hint and (not check.ok or check.warning):
                out.print(f"     fix: {check.hint}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


COMMAND_MODULES = (
    "tacit.interviews.commands",  # expert, session, guide, interview, observe
    "tacit.planning.commands",  # risk, plan, report
    "tacit.capture.commands",  # transcribe, import, export, speakers
    "tacit.capture.transcript_commands",  # transcript edit, fix, history, terms
    "tacit.index.commands",  # index
    "tacit.ask.commands",  # ask, play, chat, who-knows
    "tacit.packs.commands",  # pack
    "tacit.privacy.commands",  # redact, forget, consent, backup, restore
    "tacit.admin.model_commands",  # models prepare
)


def _mount() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).mount(app)


_mount()


def main() -> None:
    app()
