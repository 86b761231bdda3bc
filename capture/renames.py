"""Speaker renames that can be undone: `tacit speakers ID --rename OLD=NEW [--merge]` and
`--undo`. Each rename is an entry of the transcript's own history (capture/history.py) with the
segments it changed, so a merge of two speakers (a rename into a name already there) can be
taken back, in one order with the edits and fixes made to the same transcript.

An older tacit logged renames in sessions/<id>/speaker-renames.jsonl: its entries are read as the
first of the history, and the log is removed at the next change written.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tacit.capture import history
from tacit.core.errors import TacitError
from tacit.core.workspace import Workspace
from tacit.records import sessions, transcript_exports
from tacit.records import transcript as transcript_model
from tacit.records.transcript import Transcript

LOG_NAME = "speaker-renames.jsonl"  # written by tacit before the transcript held its history


def parse_renames(items: list[str]) -> dict[str, str]:
    """['SPEAKER_1=Maria Lopez'] -> {'SPEAKER_1': 'Maria Lopez'}; names must survive every
    export format (VTT voice tags, 'Name: text' lines), so ':', '<' and '>' are refused."""
    mapping: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise TacitError(f'--rename wants OLD=NEW, e.g. SPEAKER_1="Maria Lopez"; got {item!r}')
        mapping[old.strip()] = sessions.speaker_name(new)
    return mapping


def log_path(ws: Workspace, session_id: str) -> Path:
    return ws.session_dir(session_id) / LOG_NAME


def current(ws: Workspace, session_id: str) -> Transcript:
    """The transcript with its whole history: an older tacit's rename log put first."""
    transcript = transcript_model.of_session(ws, session_id)
    log = log_path(ws, session_id)
    if not log.is_file():
        return transcript
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    # a crash between saving and removing the log: its entries are in the history already
    older = [e for e in history.from_rename_log(lines, str(log)) if e not in transcript.history]
    return replace(transcript, history=(*older, *transcript.history))


def save(ws: Workspace, session_id: str, transcript: Transcript) -> Path:
    """Save a transcript read with `current` (the old log's entries are in it now)."""
    written = transcript_exports.save_with_exports(ws, session_id, transcript)
    log_path(ws, session_id).unlink(missing_ok=True)
    return written


def rename(ws: Workspace, session_id: str, mapping: dict[str, str], merge: bool) -> Transcript:
    """Rename speakers; a name that is already another speaker's needs merge=True."""
    transcript = current(ws, session_id)
    present = set(transcript.speakers)
    unknown = [old for old in mapping if old not in present]
    if unknown:
        raise TacitError(
            f"session {session_id} has no speaker {unknown[0]!r}; "
            f"its speakers are: {', '.join(transcript.speakers)}"
        )
    staying = present - set(mapping)  # a name renamed away in the same call is free
    taken = [(old, new) for old, new in mapping.items() if new != old and new in staying]
    if taken and not merge:
        old, new = taken[0]
        raise TacitError(
            f"{new!r} is already a speaker of {session_id}: renaming {old!r} into it merges "
            "the two; add --merge to do that (`tacit speakers ID --undo` takes it back)"
        )
    renamed = history.renamed(transcript, mapping, merge=bool(taken))
    save(ws, session_id, renamed)
    return renamed


def undo(ws: Workspace, session_id: str) -> tuple[Transcript, list[str]]:
    """Take back the last change if it is a rename (or merge); an edit or fix last is refused
    with where to undo it. Returns the transcript and 'NEW -> OLD' lines."""
    transcript = current(ws, session_id)
    if not transcript.history:
        raise TacitError(f"session {session_id} has no recorded speaker rename to undo")
    restored = history.undo(transcript, session_id, only="rename")
    save(ws, session_id, restored)
    return restored, [f"{r['to']} -> {r['from']}" for r in transcript.history[-1]["renames"]]
