"""Sessions made from files made elsewhere: a transcript imported (VTT, SRT, TXT, JSON) or a
recording brought to `tacit transcribe`, for an expert who exists; undone if it fails."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tacit.capture import formats
from tacit.core.errors import TacitError, TranscriptFormatError
from tacit.core.fileio import copy_file
from tacit.core.workspace import Workspace
from tacit.records import consent as consent_module
from tacit.records import experts, media, sessions, transcript_exports
from tacit.records.sessions import Session
from tacit.records.transcript import Transcript

CHECKPOINT_NAME = ".transcribe-checkpoint.json"


def require_expert(ws: Workspace, expert: str | None) -> str:
    if not expert:
        raise TacitError("a new session needs --expert SLUG (see `tacit expert list`)")
    experts.get(ws, expert)
    return expert


def new_session(
    ws: Workspace, expert: str | None, *, kind: str, title: str | None, consent: str | None,
    label: str, started: str | None = None, interviewer: str | None = None,
) -> Session:  # fmt: skip
    """A session for a recording or transcript made elsewhere; the expert must exist."""
    expert = require_expert(ws, expert)
    fields: dict[str, Any] = {
        "title": title or "",
        "consent": consent_module.from_option(consent, experts.get(ws, expert).name),
        "interviewer": sessions.interviewer_for(ws, interviewer),
    }
    if started:
        fields["started"] = started
    return sessions.create(ws, expert, kind, label, **fields)


def import_file(
    ws: Workspace, path: Path, expert: str, *, kind: str = "interview", title: str | None = None,
    consent: str | None = None, fmt: str | None = None, interviewer: str | None = None,
) -> tuple[Session, Transcript]:  # fmt: skip
    """A new session from a transcript made elsewhere; the original is kept under imported/."""
    path = Path(path)
    if not path.is_file():
        raise TranscriptFormatError(f"{path}: no such file")
    fmt = fmt or formats.guess_format(path)
    transcript = formats.read(path, fmt)  # parse before creating anything
    duration = max(s.end for s in transcript.segments)
    transcript = replace(transcript, source=f"imported:{fmt}", duration=duration)
    interviewer = sessions.interviewer_for(
        ws, interviewer
    )  # a bad name fails before anything is made
    session = new_session(
        ws, expert, kind=kind, title=title, consent=consent, label=title or path.stem,
        interviewer=interviewer,
    )  # fmt: skip
    try:
        copy_file(
            path, ws.session_dir(session.id) / "imported" / media.file_name(path, "transcript")
        )
        transcript_exports.save_with_exports(ws, session.id, transcript)
    except BaseException:
        discard_session(ws, session.id)  # a failed import leaves no half-made session
        raise
    return session, transcript


def discard_session(ws: Workspace, session_id: str) -> None:
    """Remove a session folder this very command created (nothing else has written to it)."""
    import shutil

    shutil.rmtree(ws.session_dir(session_id), ignore_errors=True)
