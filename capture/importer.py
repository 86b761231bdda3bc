"""Transcripts as part of sessions: saving with exports beside, import, export, speaker names,
and recordings copied into a session's media folder."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from tacit.capture import formats
from tacit.core.errors import TacitError, TranscriptFormatError
from tacit.core.fileio import copy_file
from tacit.core.workspace import Workspace, safe_name, slugify
from tacit.records import experts, sessions, transcript_exports
from tacit.records.sessions import Media, Session
from tacit.records.transcript import Transcript

CHECKPOINT_NAME = ".transcribe-checkpoint.json"
_NAME_OK = re.compile(r"^[^\W\d][\w.'’ -]*$")


def parse_renames(items: list[str]) -> dict[str, str]:
    """['SPEAKER_1=Maria Lopez'] -> {'SPEAKER_1': 'Maria Lopez'}; names must survive every
    export format (VTT voice tags, 'Name: text' lines), so ':', '<' and '>' are refused."""
    mapping: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise TacitError(f'--rename wants OLD=NEW, e.g. SPEAKER_1="Maria Lopez"; got {item!r}')
        mapping[old.strip()] = speaker_name(new)
    return mapping


def speaker_name(name: str) -> str:
    """A speaker name every export format keeps (VTT voice tags, 'Name: text' lines)."""
    name = " ".join(name.split())
    if not _NAME_OK.match(name) or len(name.split()) > 5 or len(name) > 48:
        raise TacitError(
            f"speaker name {name!r}: start with a letter; up to five words of letters, "
            "digits, spaces, '.', '-', \"'\" and '_'"
        )
    return name


def interviewer_for(ws: Workspace, given: str | None) -> str:
    """--interviewer NAME, else [team] interviewer in tacit.toml, else nobody ("")."""
    name = given if given is not None else ws.config.section("team")["interviewer"]
    return speaker_name(name) if name and name.strip() else ""


def consent_record(text: str | None, expert_name: str) -> dict[str, Any]:
    """--consent TEXT as the interviews record it ('refused' or 'no' is a refusal, kept and
    never indexed), or `not recorded` (taken elsewhere; never a reason to refuse)."""
    from tacit.records import consent

    if not text or not text.strip():
        return dict(sessions.NOT_RECORDED)
    return consent.from_text(text, expert_name)


def file_name(path: Path, fallback: str) -> str:
    """A safe file name for a copy of `path`: 'Interview 3.M4A' -> 'interview-3.m4a'."""
    suffix = re.sub(r"[^a-z0-9]", "", path.suffix.lower())[:10]
    stem = slugify(path.stem)[:80] or fallback
    return safe_name(f"{stem}.{suffix}" if suffix else stem, "file name")


def session_with_media(ws: Workspace, sha256: str) -> Session | None:
    for session in sessions.list_all(ws):
        if any(m.sha256 == sha256 for m in session.media):
            return session
    return None


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
        "consent": consent_record(consent, experts.get(ws, expert).name),
        "interviewer": interviewer_for(ws, interviewer),
    }
    if started:
        fields["started"] = started
    return sessions.create(ws, expert, kind, label, **fields)


def attach_media(ws: Workspace, session: Session, source: Path, media: Media) -> Session:
    """Copy a recording into sessions/<id>/media/ and record it (with its sha256)."""
    folder = ws.session_dir(session.id) / "media"
    name = file_name(source, "recording")
    if (folder / name).exists():
        stem, dot, suffix = name.rpartition(".")
        name = f"{stem}-{len(session.media) + 1}.{suffix}" if dot else f"{name}-2"
    digest = copy_file(source, folder / name)
    recorded = replace(media, file=f"media/{name}", sha256=digest)
    return sessions.update(ws, session, media=(*session.media, recorded))


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
    interviewer = interviewer_for(ws, interviewer)  # a bad name fails before anything is made
    session = new_session(
        ws, expert, kind=kind, title=title, consent=consent, label=title or path.stem,
        interviewer=interviewer,
    )  # fmt: skip
    try:
        copy_file(path, ws.session_dir(session.id) / "imported" / file_name(path, "transcript"))
        transcript_exports.save_with_exports(ws, session.id, transcript)
    except BaseException:
        discard_session(ws, session.id)  # a failed import leaves no half-made session
        raise
    return session, transcript


def discard_session(ws: Workspace, session_id: str) -> None:
    """Remove a session folder this very command created (nothing else has written to it)."""
    import shutil

    shutil.rmtree(ws.session_dir(session_id), ignore_errors=True)
