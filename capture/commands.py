"""Commands: transcribe, import, export, speakers (top-level commands of the root app)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tacit.core import workspace
from tacit.core.errors import TacitError
from tacit.core.output import message, print_json
from tacit.options import JSON, SESSION_KIND
from tacit.records import sessions, transcript_exports
from tacit.records import transcript as transcript_model

EXPERT = typer.Option(None, "--expert", help="The expert's slug (needed for a new session).")
TITLE = typer.Option(None, "--title", help="A title for the new session.")
CONSENT = typer.Option(None, "--consent", help="Consent given, by whom, for what use.")
INTERVIEWER = typer.Option(
    None,
    "--interviewer",
    help="The speaker who asks (a speaker name): kept out of the expert's evidence "
    "(default: team.interviewer in tacit.toml).",
)


def transcribe(
    target: str = typer.Argument(..., help="A session id, or a recording (makes a new session)."),
    expert: str = EXPERT,
    kind: str = SESSION_KIND,
    title: str = TITLE,
    consent: str = CONSENT,
    interviewer: str = INTERVIEWER,
    media_file: Path = typer.Option(
        None, "--media", help="Attach this recording to the session first."
    ),
    model: str = typer.Option(
        None,
        "--model",
        help="tiny.en (bundled, English only), base (multilingual: `tacit models install base`) "
        "or a CTranslate2 Whisper folder (default: models.speech in tacit.toml).",
    ),
    device: str = typer.Option(None, "--device", help="cpu, cuda or auto (default: tacit.toml)."),
    language: str = typer.Option(
        None,
        "--language",
        help="Spoken language (en, de, ...) or auto: detected by a multilingual model (tiny.en "
        "hears English only and refuses others). Not English: an English rendering goes beside "
        "the words (it takes about as long again: RTF 0.10-0.13 with base).",
    ),
    channels: str = typer.Option(
        "auto", "--channels", help="auto, split (a speaker per channel) or mix."
    ),
    offset: float = typer.Option(
        None, "--offset", help="Seconds from the session's start to the recording's start."
    ),
    speaker: list[str] = typer.Option(
        None,
        "--speaker",
        help="Name of channel 1's speaker, then channel 2's; in a mix, of the first voice "
        "heard, then the second (repeatable).",
    ),
    diarize: str = typer.Option(
        "auto",
        "--diarize",
        help="auto, on or off: find the speakers of a mono or mixed recording by their voices "
        "(auto: whenever the recording is not split by channel).",
    ),
    num_speakers: int = typer.Option(
        None, "--num-speakers", help="How many speakers the mix holds (1-6; default: found)."
    ),
    partial: bool = typer.Option(
        False, "--partial", help="Transcribe what decodes of a truncated recording."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Replace an existing transcript (its corrections are re-applied where the new "
        "words still match; the others are listed).",
    ),
    discard_edits: bool = typer.Option(
        False, "--discard-edits", help="With --force: drop the transcript's corrections."
    ),
    as_json: bool = JSON,
) -> None:
    """Transcribe a recording: timestamped, speaker-labelled text with word timings. The
    vocabulary (models.vocabulary in tacit.toml, and the expert's own terms) primes Whisper at
    the start of each clip: 5 of 7 names right instead of 2 on the fixtures, at 0.91x (tiny.en)
    to 1.11x (base) the time without it (benchmarks/transcribe.py)."""
    from tacit.capture import pipeline
    from tacit.capture import transcribe as core

    request = core.Request(
        target=target,
        expert=expert,
        kind=kind,
        title=title,
        consent=consent,
        interviewer=interviewer,
        media=media_file,
        model=model,
        device=device,
        language=language,
        run=pipeline.RunOptions(
            channels=channels,
            offset=offset,
            speakers=tuple(sessions.speaker_name(name) for name in speaker or ()),
            partial=partial,
            force=force,
            discard_edits=discard_edits,
            diarize=diarize,
            num_speakers=num_speakers,
        ),
    )
    ws = workspace.current()
    with workspace.records_lock(ws):
        done = _drive(core.transcribe(ws, request))
    _report(done, as_json)


def _drive(events) -> object:
    """Draw the progress bar (stderr) while the core works; return its Done event."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tacit.capture import pipeline
    from tacit.capture import transcribe as core
    from tacit.core.output import err

    started = None
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[audio]}"),
        TimeElapsedColumn(),
    )
    try:
        # drawn on a terminal only: in logs and pipes it would be noise
        with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
            task = bar.add_task("decoding", total=None, audio="")
            for event in events:
                if isinstance(event, core.Started):
                    started = event
                    verb = "created session" if event.created else "session"
                    message(f"{verb} {event.session_id}: transcribing {event.media_file}")
                elif isinstance(event, pipeline.Progress):
                    audio = f"{event.done_s:.0f}/{event.total_s:.0f} s of audio"
                    bar.update(
                        task,
                        description=event.stage,
                        completed=event.done_s,
                        total=event.total_s or None,
                        audio=audio if event.total_s else "",
                    )
                elif isinstance(event, pipeline.Done):
                    return event
    except KeyboardInterrupt:
        if started is not None:
            message(f"stopped; `tacit transcribe {started.session_id}` resumes where it stopped")
        raise
    raise RuntimeError("transcription ended without a result")  # pragma: no cover


def _report(done, as_json: bool) -> None:
    transcript = done.transcript
    summary = {
        "id": done.session_id,
        "transcript": str(done.path),
        "media": transcript.media_file,
        "segments": len(transcript.segments),
        "speakers": transcript.speakers,
        "duration": transcript.duration,
        "channels": done.layout,
        "channel_similarity": round(done.similarity, 3),
        "speakers_found_by": transcript.settings.get("speakers", {}).get("found_by", "none"),
        "offset": transcript.offset,
        "offset_source": done.offset_source,
        "resumed_at": done.resumed_at,
        "dropped": [d.__dict__ for d in done.dropped],
        "warnings": list(done.warnings),
    }
    if as_json:
        print_json(summary)
        return
    for warning in done.warnings:
        message(f"warning: {warning}")
    if done.resumed_at:
        message(f"resumed at {done.resumed_at:.0f} s")
    message(
        f"{len(transcript.segments)} segments, speakers {', '.join(transcript.speakers) or '-'}"
        f" ({done.layout}; channel similarity {done.similarity:.2f}; "
        f"speakers by {summary['speakers_found_by']}); "
        f"offset {transcript.offset:g} s ({summary['offset_source']}); wrote {done.path}"
    )
    typer.echo(done.session_id)


def import_transcript(
    file: Path = typer.Argument(..., help="A .vtt, .srt, .txt or .json transcript."),
    expert: str = typer.Option(..., "--expert", help="The expert's slug."),
    kind: str = SESSION_KIND,
    title: str = TITLE,
    consent: str = CONSENT,
    fmt: str = typer.Option(None, "--format", help="vtt, srt, txt or json (default: from .ext)."),
    interviewer: str = INTERVIEWER,
    as_json: bool = JSON,
) -> None:
    """Make a session from a transcript made elsewhere (times and speakers kept)."""
    from tacit.capture import importer

    ws = workspace.current()
    with workspace.records_lock(ws):
        session, transcript = importer.import_file(
            ws, file, expert, kind=kind, title=title, consent=consent, fmt=fmt,
            interviewer=interviewer,
        )  # fmt: skip
    if as_json:
        print_json(
            {
                "id": session.id,
                "source": transcript.source,
                "segments": len(transcript.segments),
                "speakers": transcript.speakers,
            }
        )
        return
    message(
        f"imported {len(transcript.segments)} segments "
        f"({', '.join(transcript.speakers)}) into session {session.id}"
    )
    typer.echo(session.id)


def export(
    session_id: str = typer.Argument(..., help="The session."),
    fmt: str = typer.Option("vtt", "--format", help="vtt, srt, txt, json or md."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here (default: stdout)."),
    unredacted: bool = typer.Option(
        False, "--unredacted", help="Do not mask the KB's redaction terms."
    ),
) -> None:
    """Export a session's transcript (masked by the KB's redaction settings)."""
    from tacit.core.fileio import atomic_write

    if output is not None and output.is_dir():
        raise TacitError(f"--output {output} is a folder; give a file name, e.g. {output}/t.vtt")
    text = transcript_exports.export(workspace.current(), session_id, fmt, unredacted=unredacted)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write(output, text)
    from tacit.privacy.forget import record_export  # inside the KB: `forget --session` removes it

    record_export(workspace.current(), session_id, output)
    message(f"wrote {output}")


def speakers(
    session_id: str = typer.Argument(..., help="The session."),
    rename: list[str] = typer.Option(
        None, "--rename", help='OLD=NEW, e.g. SPEAKER_1="Maria Lopez" (repeatable).'
    ),
    merge: bool = typer.Option(
        False, "--merge", help="Allow a rename into a name another speaker already has."
    ),
    undo: bool = typer.Option(False, "--undo", help="Take back the last rename (or merge)."),
    as_json: bool = JSON,
) -> None:
    """List a transcript's speakers, or rename them (transcript and exports rewritten)."""
    from tacit.capture import renames
    from tacit.core.errors import UsageError
    from tacit.core.output import table

    ws = workspace.current()
    if rename and undo:
        raise UsageError("give --rename or --undo, not both")
    if rename:
        mapping = renames.parse_renames(rename)
        with workspace.records_lock(ws):
            transcript = renames.rename(ws, session_id, mapping, merge=merge)
        message(", ".join(f"{old} -> {new}" for old, new in mapping.items()))
    elif undo:
        with workspace.records_lock(ws):
            transcript, said = renames.undo(ws, session_id)
        message("undone: " + ", ".join(said))
    else:
        transcript = transcript_model.of_session(ws, session_id)
    rows = [
        {
            "speaker": name,
            "segments": sum(1 for s in transcript.segments if s.speaker == name),
            "seconds": round(
                sum(s.end - s.start for s in transcript.segments if s.speaker == name), 1
            ),
        }
        for name in transcript.speakers
    ]
    if as_json:
        print_json(rows)
        return
    table(None, ["speaker", "segments", "seconds"], [list(r.values()) for r in rows])


def mount(app: typer.Typer) -> None:
    app.command("transcribe")(transcribe)
    app.command("import")(import_transcript)
    app.command("export")(export)
    app.command("speakers")(speakers)
    from tacit.capture.voice_commands import voices_app

    app.add_typer(voices_app, name="voices")
