"""Correcting a transcript: `tacit transcript edit` (the readable form, through $EDITOR) and
`tacit transcript fix WRONG RIGHT` (find and replace over one session or all, with a preview).

Segments keep the times they were heard at: an edit changes text and speakers, and a split cuts
a segment at a time inside it. Every change is saved with a history entry (capture/history.py)
so it is listed and can be undone, and through `save_with_exports`, so the VTT and SRT beside
the transcript follow. The index picks the new text up on the next `tacit index`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

from tacit.capture import history, readable, renames, retime
from tacit.core.errors import TacitError, UsageError
from tacit.core.workspace import Workspace
from tacit.records import sessions
from tacit.records import transcript as transcript_model
from tacit.records.transcript import Segment, Transcript


@dataclass(frozen=True)
class Draft:
    """The readable form of a transcript, and the state of transcript.json it was made from."""

    session_id: str
    text: str
    fingerprint: str


@dataclass(frozen=True)
class Applied:
    session_id: str
    transcript: Transcript
    changed: int  # segments changed (0: nothing to save)
    phrases: tuple[tuple[str, str], ...] = ()  # (heard, corrected) word runs


def _fingerprint(ws: Workspace, session_id: str) -> str:
    data = transcript_model.path(ws, session_id).read_bytes()
    return hashlib.sha256(data).hexdigest()


def draft(ws: Workspace, session_id: str) -> Draft:
    transcript = transcript_model.of_session(ws, session_id)
    text = readable.render(transcript, session_id)
    return Draft(session_id, text, _fingerprint(ws, session_id))


def apply_edit(ws: Workspace, found: Draft, edited: str) -> Applied:
    """Apply the edited readable form (call under the records lock); refused whole or applied
    whole. Refused too when transcript.json changed while the editor was open."""
    if _fingerprint(ws, found.session_id) != found.fingerprint:
        raise TacitError(
            f"session {found.session_id}'s transcript changed while you edited it; "
            "nothing changed: run the edit again"
        )
    transcript = renames.current(ws, found.session_id)
    plan = readable.parse(edited, transcript)
    replaced = {p.index: _segments_of(transcript.segments[p.index], p) for p in plan}
    segments, hunks = history.replace_segments(transcript, replaced)
    if not hunks:
        return Applied(found.session_id, transcript, 0)
    what = f"{len(hunks)} segment{'s' if len(hunks) != 1 else ''} edited"
    added = history.entry("edit", what, hunks=hunks)
    return _save(ws, found.session_id, history.with_entry(transcript, segments, added), added)


def _segments_of(seg: Segment, planned: readable.Planned) -> list[Segment]:
    """What one line (and the split lines under it) make of a segment."""
    parts = planned.parts
    if len(parts) == 1 and (parts[0].speaker, parts[0].text) == (seg.speaker, seg.text):
        return [seg]
    made = []
    for n, part in enumerate(parts):
        end = parts[n + 1].start if n + 1 < len(parts) else seg.end
        if not part.text:
            continue  # emptied: the segment (or this piece of it) is dropped
        # a piece's share of the words; the first and last reach past the segment's edges
        lo = part.start if n > 0 else float("-inf")
        hi = end if n + 1 < len(parts) else float("inf")
        heard = retime.words_between(seg.words, lo, hi)
        kept = len(parts) == 1 and part.text == seg.text  # a speaker changed: words as heard
        words = seg.words if kept else retime.words_for(part.text, heard, part.start, end)
        # the English rendering is of the whole segment: it stays with its first piece
        english = seg.english if n == 0 else ""
        made.append(
            replace(seg, start=part.start, end=end, speaker=part.speaker, text=part.text,
                    words=words, english=english)
        )  # fmt: skip
    return made


def _save(ws: Workspace, session_id: str, changed: Transcript, added: dict) -> Applied:
    # checked as a file read back would be: an edit never writes what `load` would refuse
    transcript_model.from_json(changed.to_json(), f"session {session_id}'s edited transcript")
    renames.save(ws, session_id, changed)
    phrases = tuple(history.replaced_phrases(added))
    return Applied(session_id, changed, len(added.get("hunks", ())), phrases)


def undo(ws: Workspace, session_id: str, only: str | None = None) -> tuple[Transcript, dict]:
    """Take back the last recorded change; returns the transcript and the entry undone."""
    transcript = renames.current(ws, session_id)
    restored = history.undo(transcript, session_id, only)
    renames.save(ws, session_id, restored)
    return restored, transcript.history[-1]


def history_rows(ws: Workspace, session_id: str) -> list[dict]:
    return history.rows(renames.current(ws, session_id))


# ------------------------------------------------------------------ fix: find and replace


@dataclass(frozen=True)
class Match:
    session_id: str
    index: int  # the segment's place in its transcript
    start: float
    speaker: str
    before: str
    after: str


@dataclass(frozen=True)
class FixPlan:
    wrong: str
    right: str
    matches: tuple[Match, ...]

    @property
    def sessions(self) -> list[str]:
        return list(dict.fromkeys(m.session_id for m in self.matches))


def pattern(wrong: str) -> re.Pattern[str]:
    """WRONG as whole words, any case, any run of spaces between its words."""
    words = wrong.split()
    if not words:
        raise UsageError("give the words to find: tacit transcript fix WRONG RIGHT")
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _replacement(right: str):
    def replace_one(found: re.Match[str]) -> str:
        # a sentence that began with the wrong words begins with the right ones
        if found.group(0)[:1].isupper() and right[:1].islower():
            return right[:1].upper() + right[1:]
        return right

    return replace_one


def plan_fix(ws: Workspace, wrong: str, right: str, session_ids: list[str] | None) -> FixPlan:
    """Every segment WRONG is in, with its text before and after; session_ids None: all."""
    right = " ".join(right.split())
    if not right:
        raise UsageError("give the words to put in: tacit transcript fix WRONG RIGHT")
    if "\n" in right or any(ord(c) < 32 for c in right):
        raise UsageError("RIGHT must be one line of text")
    find, put = pattern(wrong), _replacement(right)
    if session_ids is None:
        session_ids = [s.id for s in sessions.list_all(ws)]
        session_ids = [s for s in session_ids if transcript_model.path(ws, s).is_file()]
    matches = []
    for session_id in session_ids:
        transcript = transcript_model.of_session(ws, session_id)
        for index, seg in enumerate(transcript.segments):
            after = find.sub(put, seg.text)
            if after != seg.text:
                matches.append(Match(session_id, index, seg.start, seg.speaker, seg.text, after))
    return FixPlan(" ".join(wrong.split()), right, tuple(matches))


def apply_fix(ws: Workspace, plan: FixPlan) -> list[Applied]:
    """Apply a previewed fix (under the records lock); refused whole if any transcript changed
    since the preview, so what is applied is what was shown."""
    again = plan_fix(ws, plan.wrong, plan.right, plan.sessions)
    if again.matches != plan.matches:
        raise TacitError("the transcripts changed since the preview; nothing changed: run it again")
    done = []
    for session_id in plan.sessions:
        transcript = renames.current(ws, session_id)
        replaced = {
            m.index: [_fixed(transcript.segments[m.index], m.after)]
            for m in plan.matches
            if m.session_id == session_id
        }
        segments, hunks = history.replace_segments(transcript, replaced)
        what = f"{plan.wrong!r} -> {plan.right!r} in {len(hunks)} segment(s)"
        added = history.entry("fix", what, hunks=hunks, wrong=plan.wrong, right=plan.right)
        done.append(_save(ws, session_id, history.with_entry(transcript, segments, added), added))
    return done


def _fixed(seg: Segment, text: str) -> Segment:
    words = retime.words_for(text, seg.words, seg.start, seg.end)
    return replace(seg, text=text, words=words)
