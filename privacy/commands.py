"""Commands: redact, consent, forget, backup, restore."""

from __future__ import annotations

from pathlib import Path

import typer

from tacit.admin import backup as backup_core
from tacit.admin import pending
from tacit.core import workspace
from tacit.core.errors import UsageError
from tacit.core.output import message, out, print_json
from tacit.options import JSON
from tacit.privacy import originals
from tacit.records import consent, redaction


def redact_command(
    session_id: str = typer.Argument(..., help="Session id."),
    preview: bool = typer.Option(
        False, "--preview", help="Show what would be masked; change nothing."
    ),
    as_json: bool = JSON,
) -> None:
    """Show (--preview) or apply redaction to a session's plain files."""
    ws = workspace.current()
    if preview:
        findings = originals.preview(ws, session_id)
        if as_json:
            print_json([f.__dict__ for f in findings])
            return
        for finding in findings:
            out.print(f"{finding.where}: {finding.text} -> {redaction.MASK}", markup=False)
        message(f"{len(findings)} matches would be masked in everything derived from {session_id}")
        return
    with pending.writer_lock(ws):
        count = originals.redact_originals(ws, session_id)
    message(f"masked {count} matches in the plain files of {session_id}; run `tacit index`")


def consent_command(
    session_id: str = typer.Argument(..., help="Session id."),
    given_by: str = typer.Option(None, "--given-by", help="Consent given, by this person."),
    use: str = typer.Option(None, "--use", help="For what use."),
    withdraw: bool = typer.Option(False, "--withdraw", help="Consent withdrawn: leaves answers."),
    refuse: bool = typer.Option(False, "--refuse", help="Consent refused."),
) -> None:
    """Record consent for a session, or its withdrawal (it leaves answers at the next index)."""
    chosen = [
        flag
        for flag, on in (("given", bool(given_by)), ("withdrawn", withdraw), ("refused", refuse))
        if on
    ]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --given-by NAME, --withdraw, --refuse")
    ws = workspace.current()
    with pending.writer_lock(ws):
        consent.set_consent(ws, session_id, chosen[0], by=given_by, use=use)
    if chosen[0] == "withdrawn":
        message(
            f"consent withdrawn for {session_id}; it leaves answers and packs at the next "
            "`tacit index` (its files stay until `tacit forget --session`)"
        )
    else:
        message(f"consent {chosen[0]} recorded for {session_id}")


def forget_command(
    session: list[str] = typer.Option(None, "--session", help="Session id (repeatable)."),
    expert: str = typer.Option(None, "--expert", help="Forget an expert and all their sessions."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = JSON,
) -> None:
    """Erase sessions or an expert: files, media, transcripts, chunks, logs, built packs."""
    from tacit.core import intents
    from tacit.privacy import forget

    ws = workspace.current()
    if not session and not expert:
        if intents.read(ws, intents.FORGET) is None:
            raise UsageError("say what to forget: --session ID or --expert SLUG")
        with pending.writer_lock(ws):
            pending.finish_pending(ws)  # the lock finishes it too; this says so when it did not
        return
    targets = forget.targets(ws, list(session or []), expert)
    if not yes:
        listed = ", ".join(targets.sessions) or "no sessions"
        who = f" and expert {targets.expert}" if targets.expert else ""
        if not typer.confirm(f"Erase {listed}{who} for good?", err=True):
            raise typer.Exit(1)
    with pending.writer_lock(ws):
        if pending.finish_pending(ws):  # a killed forget, finished first: look again
            still = [s for s in targets.sessions if ws.session_dir(s).is_dir()]
            targets = forget.targets(ws, still, targets.expert if still else None)
        report = forget.forget(ws, targets)
    if as_json:
        print_json(report.to_json())
    for line in report.lines():
        message(line)


def backup_command(archive: Path = typer.Argument(..., help="FILE.tar.gz to write.")) -> None:
    """Archive the plain files (not the rebuildable .tacit/ cache)."""
    ws = workspace.current()
    with pending.writer_lock(ws):
        result = backup_core.backup(ws, archive)
    message(f"backed up {result.files} files ({result.bytes / 1e6:.1f} MB) to {result.archive}")
    message("the backup holds personnel conversations: store it as carefully as the KB")


def restore_command(
    archive: Path = typer.Argument(..., help="A backup made by `tacit backup`."),
    target: Path = typer.Argument(..., help="An empty or new folder."),
) -> None:
    """Restore a backup into an empty folder, checking every file's hash."""
    result = backup_core.restore(archive, target)
    message(
        f"restored {result.files} files into {result.archive}; now run "
        f"`tacit --kb {result.archive} index` to rebuild the index"
    )


def mount(app: typer.Typer) -> None:
    app.command("redact")(redact_command)
    app.command("consent")(consent_command)
    app.command("forget")(forget_command)
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
