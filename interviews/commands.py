"""Commands for experts, sessions, guides, interviews and observation."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import typer

from tacit.core import workspace
from tacit.core.output import message, out, print_json, table
from tacit.options import ATTRITION, JSON, LEAVING_ON, ROLE, TEAM
from tacit.records import experts, sessions

expert_app = typer.Typer(help="Experts: who knows what, and when they leave.", no_args_is_help=True)
session_app = typer.Typer(help="Sessions: interviews and observations.", no_args_is_help=True)


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


LEFT = typer.Option(False, "--left", help="Confirm a past --leaving-on: the expert has left.")


def _confirm_left(leaving_on: dt.date | None, left: bool) -> None:
    """A past leaving date means the expert has left: asked on a terminal, else --left."""
    import sys

    from tacit.core.errors import UsageError

    past = leaving_on is not None and leaving_on < dt.date.today()
    if left and not past:
        raise UsageError("--left confirms a --leaving-on date in the past; give that date")
    if not past or left:
        return
    question = f"{leaving_on} is in the past: has the expert left?"
    if sys.stdin.isatty() and typer.confirm(question, default=False):
        return
    raise UsageError(f"--leaving-on {leaving_on} is in the past; add --left if the expert has left")


@expert_app.command("add")
def expert_add(
    name: str = typer.Argument(..., help="Full name, e.g. 'Maria Lopez'."),
    role: str = ROLE,
    team: str = TEAM,
    leaving_on: str = LEAVING_ON,
    attrition: int = ATTRITION,
    position_risk: int = typer.Option(
        None, "--position-risk", help="1-5: how critical and unique."
    ),
    topic: list[str] = typer.Option(None, "--topic", help="A topic they know (repeatable)."),
    contact: list[str] = typer.Option(None, "--contact", help="'Name: what for' (repeatable)."),
    consent: str = typer.Option(None, "--consent", help="Consent given, by whom, for what use."),
    left: bool = LEFT,
    as_json: bool = JSON,
) -> None:
    """Add an expert (experts/<slug>.md)."""
    _confirm_left(_date(leaving_on), left)
    ws = workspace.current()
    with workspace.records_lock(ws):
        expert = experts.add(
            ws,
            name,
            role=role,
            team=team,
            leaving_on=_date(leaving_on),
            attrition=attrition,
            position_risk=position_risk,
            topics=topic or None,
            contacts=contact or None,
            consent=consent,
        )
    if as_json:
        print_json(expert.to_json())
    else:
        message(f"added expert {expert.slug}")
        typer.echo(expert.slug)


@expert_app.command("list")
def expert_list(as_json: bool = JSON) -> None:
    """List experts."""
    found = experts.list_all(workspace.current())
    if as_json:
        print_json([e.to_json() for e in found])
        return
    rows = [
        [e.slug, e.name, e.role, e.team, e.leaving_on or "", ", ".join(e.topics)] for e in found
    ]
    table(None, ["slug", "name", "role", "team", "leaving on", "topics"], rows)


@expert_app.command("show")
def expert_show(slug: str, as_json: bool = JSON) -> None:
    """Show one expert."""
    expert = experts.get(workspace.current(), slug)
    if as_json:
        print_json(expert.to_json())
        return
    out.print(f"[bold]{expert.name}[/] ({expert.slug})", highlight=False)
    for label, value in (
        ("role", expert.role),
        ("team", expert.team),
        ("leaving on", expert.leaving_on),
        ("attrition", expert.attrition),
        ("position risk", expert.position_risk),
        ("topics", ", ".join(expert.topics)),
        ("contacts", "; ".join(expert.contacts)),
        ("consent", expert.consent),
        ("voice consent", _voice_line(expert.voice)),
    ):
        if value not in (None, ""):
            out.print(f"{label}: {value}", highlight=False, markup=False)
    if expert.notes.strip():
        out.print("")
        out.print(expert.notes.strip(), markup=False, highlight=False)


def _voice_line(voice: dict) -> str:
    if not voice:
        return ""
    return f"{voice['status']} by {voice.get('by') or '?'} on {voice.get('when') or '?'}"


@expert_app.command("edit")
def expert_edit(
    slug: str,
    role: str = ROLE,
    team: str = TEAM,
    leaving_on: str = LEAVING_ON,
    attrition: int = ATTRITION,
    position_risk: int = typer.Option(None, "--position-risk"),
    topic: list[str] = typer.Option(None, "--topic", help="Replaces the topics (repeatable)."),
    contact: list[str] = typer.Option(None, "--contact", help="Replaces the contacts."),
    consent: str = typer.Option(None, "--consent"),
    voice_consent: str = typer.Option(
        None,
        "--voice-consent",
        help="given or refused: may tacit keep a voice profile of this person (biometric "
        "data)? Refused deletes one.",
    ),
    voice_consent_by: str = typer.Option(
        None, "--voice-consent-by", help="Who gave or refused it (default: the person)."
    ),
    left: bool = LEFT,
) -> None:
    """Change an expert with flags, or open the file in $EDITOR when no flag is given."""
    _confirm_left(_date(leaving_on), left)
    ws = workspace.current()
    if voice_consent is not None:
        from tacit.capture import voices

        with workspace.records_lock(ws):
            person = experts.set_voice_consent(ws, slug, voice_consent, voice_consent_by)
            removed = voice_consent == "refused" and voices.remove(ws, slug)
        message(f"{person.name}: voice consent {voice_consent} by {person.voice['by']}")
        if removed:
            message(f"removed the voice profile of {person.name}")
    fields = dict(
        role=role,
        team=team,
        leaving_on=_date(leaving_on),
        attrition=attrition,
        position_risk=position_risk,
        topics=topic or None,
        contacts=contact or None,
        consent=consent,
    )
    with workspace.records_lock(ws):
        if any(v is not None for v in fields.values()):
            experts.edit(ws, slug, **fields)
        elif voice_consent is None:
            path = experts.expert_path(ws, slug)
            experts.get(ws, slug)
            editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
            subprocess.run([*editor.split(), str(path)], check=False)
            experts.load_file(path)  # a broken edit is reported now, not at the next command
    message(f"updated expert {slug}")


@expert_app.command("agenda")
def expert_agenda(
    slug: str,
    done: str = typer.Option(None, "--done", metavar="ID", help="Mark an item captured."),
    dismiss: str = typer.Option(None, "--dismiss", metavar="ID", help="Drop an item for good."),
    reason: str = typer.Option("", "--reason", help="Why it is dismissed (with --dismiss)."),
    as_json: bool = JSON,
) -> None:
    """The agenda for the next session: open questions first, then sections never covered.

    Each item shows its id; --done ID or --dismiss ID keeps it off later agendas and plans."""
    from tacit.core.errors import UsageError
    from tacit.planning import agenda as agenda_core

    ws = workspace.current()
    if done and dismiss:
        raise UsageError("give --done or --dismiss, not both")
    if reason and not dismiss:
        raise UsageError("--reason goes with --dismiss")
    if done or dismiss:
        with workspace.records_lock(ws):
            entry = agenda_core.close(
                ws, slug, done or dismiss, "done" if done else "dismissed", reason
            )
        if as_json:
            print_json(entry)
        else:
            message(f"{entry['action']}: {entry['item']} ({entry['id']})")
        return
    plan = agenda_core.agenda(ws, slug)
    if as_json:
        print_json(plan.to_json())
        return
    _print_agenda(plan)


def _print_agenda(plan) -> None:
    from rich.table import Table
    from rich.text import Text

    labels = {"follow-up": "follow-up", "skipped": "skipped", "asked": "asked, not captured"}
    out.print(Text(f"Agenda for the next session with {plan.name} ({plan.expert})", style="bold"))
    out.print()
    out.print(Text(f"Open questions ({len(plan.open_questions)})", style="bold"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", min_width=4)
    grid.add_column()
    for n, item in enumerate(plan.open_questions, 1):
        where = f"{item.session} · {item.qid}" if item.session else f"first asked {item.asked}"
        if item.times_asked > 1:
            where += f" · asked {item.times_asked} times"
        where += f" · id {item.id}"
        cell = Text(f"[{labels.get(item.source, item.source)}] {item.question}\n")
        cell.append(where, style="dim")
        if item.note:
            cell.append(f"\nnote: {item.note}")
        grid.add_row(f"{n}.", cell)
    out.print(grid if plan.open_questions else Text("     none"))
    out.print()
    out.print(Text(f"Guide sections never covered ({len(plan.sections)})", style="bold"))
    guide = None
    for section in plan.sections:
        if section.guide != guide:
            guide = section.guide
            begun = " (begun)" if section.guide_used else ""
            out.print(Text(f"  {section.guide}{begun}: {section.guide_title}"))
        out.print(Text(f"     - {section.title} ({section.questions} questions) · id {section.id}"))
    if plan.unreadable_log_lines:
        message(f"skipped {plan.unreadable_log_lines} unreadable line(s) in questions.jsonl")


@session_app.command("list")
def session_list(
    expert: str = typer.Option(None, "--expert", help="Only this expert's sessions."),
    as_json: bool = JSON,
) -> None:
    """List sessions, with their consent."""
    found = sessions.list_all(workspace.current(), expert=expert)
    if as_json:
        print_json([s.to_json() for s in found])
        return
    rows = [
        [
            s.id,
            s.expert,
            s.kind,
            s.status,
            s.consent_status,
            "yes" if s.restricted else "",
            len(s.media),
        ]
        for s in found
    ]
    table(None, ["id", "expert", "kind", "status", "consent", "restricted", "media"], rows)


@session_app.command("show")
def session_show(session_id: str, as_json: bool = JSON) -> None:
    """Show one session."""
    ws = workspace.current()
    session = sessions.get(ws, session_id)
    if as_json:
        print_json(session.to_json())
        return
    from tacit.records import session_page

    # soft wrap: the body is Markdown, and a wrapped table row would break it
    out.print(session_page.session_body(session), markup=False, highlight=False, soft_wrap=True)


def mount(app: typer.Typer) -> None:
    from tacit.interviews.guide_commands import guide_app
    from tacit.interviews.run_commands import interview_app, observe_app

    app.add_typer(expert_app, name="expert")
    app.add_typer(session_app, name="session")
    app.add_typer(guide_app, name="guide")
    app.add_typer(interview_app, name="interview")
    app.add_typer(observe_app, name="observe")
