"""`tacit interview` and `tacit observe`: start and resume sessions from a guide."""

from __future__ import annotations

from pathlib import Path

import typer

from tacit.core import workspace
from tacit.core.output import err
from tacit.interviews import interview, question_loop
from tacit.records.sessions import Session

interview_app = typer.Typer(
    help="Interviews: walk a guide one question at a time.", no_args_is_help=True
)
observe_app = typer.Typer(
    help="Observation: log the steps of a task as an expert does it.", no_args_is_help=True
)

EXPERT = typer.Option(..., "--expert", help="The expert's slug (see `tacit expert list`).")
TITLE = typer.Option(None, "--title", help="A title for the session.")
CONSENT = typer.Option(
    None,
    "--consent",
    help="Consent given, for this use (e.g. 'onboarding and training'); 'refused' records a "
    "refusal. Without it you are asked first.",
)
ANSWERS = typer.Option(
    None, "--answers", help="YAML file: question id -> answer (no prompts; for scripts and tests)."
)
RECORDING = typer.Option(
    None, "--recording", help="A recording made alongside: copied into the session's media/."
)
OFFSET = typer.Option(
    None, "--offset", help="Seconds from the session's start to the recording's start."
)
RECORD = typer.Option(
    False,
    "--record",
    help="Record the microphone with ffmpeg (recording.input_format and input_device in "
    "tacit.toml); needs consent.",
)
RESTRICTED = typer.Option(
    False, "--restricted", help="Keep it out of protégé answers unless asked for explicitly."
)


def _terminal(answers: Path | None):
    if answers is not None:
        return None
    from tacit.interviews.terminal import RichTerminal

    return RichTerminal()


def message(text: str) -> None:
    # one line whatever the terminal's width: these lines are copied into the next command
    err.print(text, soft_wrap=True, markup=False, highlight=False)


def _report(session: Session) -> None:
    counts = question_loop.summary(session)
    kinds = ("answered", "skipped", "follow-up", "pending")
    parts = [f"{counts[k]} {k}" for k in kinds if counts[k]]
    if session.kind == "observation":
        parts.append(f"{counts['steps']} steps ({counts['practise']} to practise)")
    message(f"session {session.id}: {session.status}; " + ", ".join(parts or ["nothing yet"]))
    for media in session.media:
        message(f"recording {media.file} (offset {media.offset:g} s, {media.offset_source})")
    if session.status != "done":
        command = "observe" if session.kind == "observation" else "interview"
        message(f"continue with: tacit {command} resume {session.id}")
    elif counts["skipped"] or counts["follow-up"]:
        message(f"open questions go on the agenda: tacit expert agenda {session.expert}")
    typer.echo(session.id)


@interview_app.command("start")
def interview_start(
    expert: str = EXPERT,
    guide: str = typer.Option("exit-interview", "--guide", help="The guide to follow."),
    title: str = TITLE,
    consent: str = CONSENT,
    answers: Path = ANSWERS,
    recording: Path = RECORDING,
    offset: float = OFFSET,
    record: bool = RECORD,
    restricted: bool = RESTRICTED,
    interviewer: str = typer.Option(
        None,
        "--interviewer",
        help="Who asks (a speaker name): their words are kept out of the expert's evidence "
        "(default: team.interviewer in tacit.toml).",
    ),
) -> None:
    """Start an interview: consent first, then the guide one question at a time."""
    request = interview.Request(
        expert=expert,
        guide=guide,
        title=title,
        consent=consent,
        answers=answers,
        recording=recording,
        offset=offset,
        record=record,
        restricted=restricted,
        interviewer=interviewer,
    )
    _report(interview.start(workspace.current(), request, _terminal(answers)))


def _resume(
    kind: str, session_id: str, consent: str, recording: Path, offset: float, record: bool
) -> None:
    found = interview.resume(
        workspace.current(), session_id, kind, _terminal(None), record=record,
        recording=recording, offset=offset, consent_text=consent,
    )  # fmt: skip
    _report(found)


@interview_app.command("resume")
def interview_resume(
    session_id: str = typer.Argument(..., help="The session's id (see `tacit session list`)."),
    consent: str = CONSENT,
    recording: Path = RECORDING,
    offset: float = OFFSET,
    record: bool = RECORD,
) -> None:
    """Continue an interview at its first unanswered question."""
    _resume("interview", session_id, consent, recording, offset, record)


@observe_app.command("start")
def observe_start(
    expert: str = EXPERT,
    task: str = typer.Option(..., "--task", help="The task, e.g. 'Restart the cooling loop'."),
    guide: str = typer.Option("job-breakdown", "--guide", help="An observation guide."),
    title: str = TITLE,
    consent: str = CONSENT,
    answers: Path = ANSWERS,
    recording: Path = RECORDING,
    offset: float = OFFSET,
    record: bool = RECORD,
    restricted: bool = RESTRICTED,
) -> None:
    """Start an observation: log each step (what, key point, why, practise) as it happens."""
    request = interview.Request(
        expert=expert,
        guide=guide,
        kind="observation",
        task=task,
        title=title,
        consent=consent,
        answers=answers,
        recording=recording,
        offset=offset,
        record=record,
        restricted=restricted,
    )
    _report(interview.start(workspace.current(), request, _terminal(answers)))


@observe_app.command("resume")
def observe_resume(
    session_id: str = typer.Argument(..., help="The session's id (see `tacit session list`)."),
    consent: str = CONSENT,
    recording: Path = RECORDING,
    offset: float = OFFSET,
    record: bool = RECORD,
) -> None:
    """Continue an observation where it stopped."""
    _resume("observation", session_id, consent, recording, offset, record)
