"""`tacit transcript`: correct a transcript (edit in $EDITOR, fix WRONG RIGHT), list its
history, undo the last change, and the corrected terms offered for the vocabulary."""

from __future__ import annotations

import sys

import typer

from tacit.core import workspace
from tacit.core.errors import TacitError, UsageError
from tacit.core.output import print_json, table
from tacit.options import JSON

transcript_app = typer.Typer(
    no_args_is_help=True, help="Correct transcripts: edit, fix, history, undo, terms."
)


@transcript_app.command("edit")
def edit(
    session_id: str = typer.Argument(..., help="The session."),
    undo: bool = typer.Option(
        False, "--undo", help="Take back the last change (edit, fix, rename or merge)."
    ),
) -> None:
    """Correct text and speakers in $EDITOR (one line a segment; times stay as recorded)."""
    from tacit.capture import corrections

    ws = workspace.current()
    if undo:
        with workspace.records_lock(ws):
            _transcript, entry = corrections.undo(ws, session_id)
        message(f"undone: {entry.get('change')} of {entry.get('at')}: {entry.get('what')}")
        _index_hint()
        return
    found = corrections.draft(ws, session_id)
    edited = found.text
    while True:
        edited = _in_editor(edited)
        if edited == found.text:
            message("no changes")
            return
        try:
            with workspace.records_lock(ws):
                applied = corrections.apply_edit(ws, found, edited)
            break
        except TacitError as exc:
            # on a terminal the same edit is offered again, as `crontab -e` does, rather than lost
            if not (sys.stdin.isatty() and exc.message.startswith("line ")):
                raise
            message(f"error: {exc.message}")
            if not typer.confirm("Edit again?", default=True, err=True):
                raise typer.Exit(1) from None
    if not applied.changed:
        message("no changes")
        return
    message(
        f"session {session_id}: {applied.changed} segment(s) changed "
        f"(undo: tacit transcript edit {session_id} --undo)"
    )
    from tacit.capture import terms

    _offer(terms.offered(ws, session_id, applied.phrases))
    _index_hint()


def _in_editor(text: str) -> str:
    """The text after $VISUAL or $EDITOR had it, from a private temporary file."""
    import os
    import tempfile

    import click

    handle, name = tempfile.mkstemp(prefix="tacit-transcript-", suffix=".txt")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as draft:
            draft.write(text)
        try:
            click.edit(filename=name)
        except click.ClickException as exc:
            raise TacitError(f"{exc.format_message()}; nothing changed") from None
        try:
            with open(name, encoding="utf-8") as done:
                return done.read()
        except UnicodeDecodeError:
            raise TacitError("the edited file is not UTF-8 text; nothing changed") from None
    finally:
        os.unlink(name)


def _offer(offered: list[str]) -> None:
    if offered:
        listed = ", ".join(repr(t) for t in offered)
        message(
            f"not in the vocabulary yet: {listed}; `tacit transcript terms --learn` adds "
            "it to the expert's own list, so the next transcription spells it right"
        )


def _index_hint() -> None:
    message("answers and packs use the change after `tacit index`")


@transcript_app.command("fix")
def fix(
    wrong: str = typer.Argument(..., help="The words the transcript has (whole words, any case)."),
    right: str = typer.Argument(..., help="The words to put in their place."),
    session: str = typer.Option(None, "--session", help="Fix this session only."),
    every: bool = typer.Option(False, "--all", help="Fix every session's transcript."),
    yes: bool = typer.Option(False, "--yes", help="Apply without asking after the preview."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the preview only."),
    as_json: bool = JSON,
) -> None:
    """Find and replace words in one session's transcript or all; shows a preview first."""
    from tacit.capture import corrections, terms

    if bool(session) == every:
        raise UsageError("give --session ID or --all")
    ws = workspace.current()
    plan = corrections.plan_fix(ws, wrong, right, None if every else [session])
    if as_json and (dry_run or not plan.matches):
        print_json(_plan_json(plan, applied=False))
        return
    if not as_json:
        _preview(plan)
    if not plan.matches:
        if not as_json:
            message(f"{plan.wrong!r} is not in {'any transcript' if every else session}")
        return
    if dry_run:
        return
    asked = f"Replace {len(plan.matches)} in {len(plan.sessions)} session(s)?"
    if not yes and not typer.confirm(asked, err=True):
        raise typer.Exit(1)
    with workspace.records_lock(ws):
        done = corrections.apply_fix(ws, plan)
    if as_json:
        print_json(_plan_json(plan, applied=True))
        return
    message(f"fixed {len(plan.matches)} segment(s) in {len(done)} session(s)")
    _offer(list(dict.fromkeys(t for a in done for t in terms.offered(ws, a.session_id, a.phrases))))
    _index_hint()


def _preview(plan) -> None:
    from tacit.core import timefmt

    for m in plan.matches:
        typer.echo(f"{m.session_id} {timefmt.stamp(m.start)} {m.speaker}:")
        typer.echo(f"  - {m.before}")
        typer.echo(f"  + {m.after}")


def _plan_json(plan, applied: bool) -> dict:
    return {
        "wrong": plan.wrong,
        "right": plan.right,
        "applied": applied,
        "sessions": plan.sessions,
        "matches": [m.__dict__ for m in plan.matches],
    }


@transcript_app.command("history")
def history_command(
    session_id: str = typer.Argument(..., help="The session."), as_json: bool = JSON
) -> None:
    """List the changes made to a transcript, oldest first; the last one is undone first."""
    from tacit.capture import corrections

    rows = corrections.history_rows(workspace.current(), session_id)
    if as_json:
        print_json(rows)
        return
    if not rows:
        message(f"session {session_id}: no changes recorded")
        return
    for row in rows:
        kept = "" if row["undoable"] else " (before transcribe --force: cannot be undone)"
        typer.echo(f"{row['number']}. {row['at']} {row['change']}: {row['what']}{kept}")
        for line in row["changes"]:
            typer.echo(f"   {line}")


@transcript_app.command("terms")
def terms_command(
    session: str = typer.Option(None, "--session", help="Only terms corrected in this session."),
    learn: bool = typer.Option(
        False, "--learn", help="Add each to the vocabulary of the experts it was corrected for."
    ),
    as_json: bool = JSON,
) -> None:
    """Terms people corrected that the vocabulary does not hold yet (offered for it)."""
    from tacit.capture import terms

    ws = workspace.current()
    found = terms.corrected(ws, [session] if session else None)
    added: dict[str, list[str]] = {}
    if learn and found:
        with workspace.records_lock(ws):
            added = terms.learn(ws, found)
    if as_json:
        print_json({"terms": [t.__dict__ for t in found], "learned": added})
        return
    if not found:
        message("no corrected term missing from the vocabulary")
        return
    rows = [[t.term, ", ".join(t.heard), ", ".join(t.experts), len(t.sessions)] for t in found]
    table(None, ["term", "was heard as", "experts", "sessions"], rows)
    for slug, words in added.items():
        message(f"added to {slug}'s vocabulary: {', '.join(words)}")
    if not learn:
        message(
            "`--learn` adds them to each expert's own vocabulary; for every expert, add them "
            "to vocabulary = [...] under [models] in tacit.toml"
        )


def message(text: str) -> None:
    """A line on stderr; brackets in it are text (a time, `[models]`), not rich markup."""
    from rich.markup import escape

    from tacit.core import output

    output.err.print(escape(text), soft_wrap=True)  # one line, whatever the terminal's width


def mount(app: typer.Typer) -> None:
    app.add_typer(transcript_app, name="transcript")
