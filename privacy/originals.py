"""Redaction of what a session holds: the preview of what would be masked, rewriting the
originals when tacit.toml allows it, and re-masking everything derived after the settings change.

The patterns themselves (names, e-mail addresses, phone numbers) are records/redaction.py: every
layer masks with them; only this one rewrites files with them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tacit.core import timefmt
from tacit.core.errors import TacitError
from tacit.core.workspace import Workspace
from tacit.records import sessions
from tacit.records import transcript as transcript_model
from tacit.records.redaction import redactor


@dataclass(frozen=True)
class Finding:
    where: str  # "transcript 00:01:23" or "answer <qid>" or "step <n>"
    text: str  # the match


def session_texts(ws: Workspace, session_id: str) -> list[tuple[str, str]]:
    """(where, text) for every piece of text a session holds."""
    session = sessions.get(ws, session_id)
    texts = [(f"answer {a.qid}", a.text) for a in session.answers if a.text]
    texts += [(f"step {s.n}", f"{s.action} {s.key_point} {s.reason}") for s in session.steps]
    path = transcript_model.path(ws, session_id)
    if path.is_file():
        texts += [
            (f"transcript {timefmt.clock(seg.start)}", seg.text)
            for seg in transcript_model.load(path).segments
        ]
    if session.notes:
        texts.append(("notes", session.notes))
    return texts


def preview(ws: Workspace, session_id: str) -> list[Finding]:
    mask = redactor(ws.config)
    return [
        Finding(where, hit)
        for where, text in session_texts(ws, session_id)
        for hit in mask.matches(text)
    ]


def redact_originals(ws: Workspace, session_id: str) -> int:
    """Rewrite the session's plain files with masks (only when tacit.toml says so)."""
    if not ws.config.redaction["redact_originals"]:
        raise TacitError(
            "originals are kept as spoken; set redact_originals = true under [redaction] in "
            "tacit.toml to rewrite them (everything derived is masked at the next `tacit index`)"
        )
    mask = redactor(ws.config)
    count = len(preview(ws, session_id))
    session = sessions.get(ws, session_id)
    sessions.update(
        ws,
        session,
        answers=tuple(replace(a, text=mask(a.text)) for a in session.answers),
        steps=tuple(
            replace(s, action=mask(s.action), key_point=mask(s.key_point), reason=mask(s.reason))
            for s in session.steps
        ),
        notes=mask(session.notes),
    )
    path = transcript_model.path(ws, session_id)
    if path.is_file():
        transcript = transcript_model.load(path)
        segments = tuple(replace(seg, text=mask(seg.text), words=()) for seg in transcript.segments)
        history = transcript_model.masked_history(transcript.history, mask)  # what was before
        transcript_model.save(path, replace(transcript, segments=segments, history=history))
    return count
