"""Speaker renames that can be undone: `tacit speakers ID --rename OLD=NEW [--merge]` and
`--undo`. Each rename is recorded in sessions/<id>/speaker-renames.jsonl with the segments it
changed, so a merge of two speakers (a rename into a name already there) can be taken back.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

from tacit.core.errors import TacitError
from tacit.core.fileio import append_line, atomic_write
from tacit.core.workspace import Workspace
from tacit.records import sessions, transcript_exports
from tacit.records import transcript as transcript_model
from tacit.records.transcript import Transcript

LOG_NAME = "speaker-renames.jsonl"


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


def rename(ws: Workspace, session_id: str, mapping: dict[str, str], merge: bool) -> Transcript:
    """Rename speakers; a name that is already another speaker's needs merge=True."""
    transcript = transcript_model.of_session(ws, session_id)
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
    changed = [
        {"from": old, "to": new, "segments": _indices(transcript, old)}
        for old, new in mapping.items()
        if new != old
    ]
    renamed = transcript.rename_speakers(mapping)
    transcript_exports.save_with_exports(ws, session_id, renamed)
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    append_line(log_path(ws, session_id), json.dumps({"at": when, "renames": changed}))
    return renamed


def _indices(transcript: Transcript, speaker: str) -> list[int]:
    return [i for i, s in enumerate(transcript.segments) if s.speaker == speaker]


def undo(ws: Workspace, session_id: str) -> tuple[Transcript, list[str]]:
    """Take back the last recorded rename. Returns the transcript and 'NEW -> OLD' lines."""
    path = log_path(ws, session_id)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    if not lines:
        raise TacitError(f"session {session_id} has no recorded speaker rename to undo")
    try:
        last = json.loads(lines[-1])
        renames = [(r["from"], r["to"], list(r["segments"])) for r in last["renames"]]
    except (ValueError, KeyError, TypeError):
        raise TacitError(f"{path}: line {len(lines)}: not a rename record") from None
    transcript = transcript_model.of_session(ws, session_id)
    segments = list(transcript.segments)
    for old, new, indices in renames:
        if any(i >= len(segments) or segments[i].speaker != new for i in indices):
            raise TacitError(
                f"session {session_id}: the transcript changed since {old!r} became {new!r}; "
                "rename by hand with --rename"
            )
        for i in indices:
            segments[i] = replace(segments[i], speaker=old)
    restored = replace(transcript, segments=tuple(segments))
    transcript_exports.save_with_exports(ws, session_id, restored)
    atomic_write(path, "".join(f"{line}\n" for line in lines[:-1]))
    return restored, [f"{new} -> {old}" for old, new, _ in renames]
