"""The change log kept inside transcript.json (`Transcript.history`): what each correction changed,
when, and what was there before, so `tacit transcript history` lists it and `--undo` takes the last
change back.

An entry is a plain JSON object, oldest first:
- `at`: when (ISO time); `change`: edit | fix | rename | retranscribe; `what`: a one-line summary;
- `hunks` (edit, fix, retranscribe): each `{at, count, before, after}` says the `count` segments
  from index `at` of the transcript after the change replaced the `before` segments (kept whole,
  words and all, to be restored as they were); `after` holds their times, speaker and text, so
  an undo can check the transcript is still the one the change left;
- `renames` (rename): `{from, to, segments}` as `tacit speakers --rename` made them;
- `undoable`: false for entries made before `transcribe --force` remade the segments.
Entries are taken back last first; an undo removes its entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from tacit.core import timefmt
from tacit.core.errors import TacitError
from tacit.records import transcript as transcript_model
from tacit.records.transcript import Segment, Transcript

CHANGES = ("edit", "fix", "rename", "retranscribe")


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _shown(seg: Segment) -> dict[str, Any]:
    return {"start": seg.start, "end": seg.end, "speaker": seg.speaker, "text": seg.text}


def replace_segments(
    transcript: Transcript, replaced: dict[int, Sequence[Segment]]
) -> tuple[tuple[Segment, ...], list[dict[str, Any]]]:
    """The segments with segment i replaced by replaced[i] (none, one, or a split), and the hunks
    that record it; a replacement equal to the segment is no change and makes no hunk."""
    segments: list[Segment] = []
    hunks: list[dict[str, Any]] = []
    for index, seg in enumerate(transcript.segments):
        new = list(replaced.get(index, (seg,)))
        if new != [seg]:
            hunks.append(
                {
                    "at": len(segments),
                    "count": len(new),
                    "before": [{**asdict(seg), "words": [asdict(w) for w in seg.words]}],
                    "after": [_shown(s) for s in new],
                }
            )
        segments += new
    return tuple(segments), hunks


def entry(change: str, what: str, **fields: Any) -> dict[str, Any]:
    return {"at": now(), "change": change, "what": what, **fields, "undoable": True}


def with_entry(
    transcript: Transcript, segments: Sequence[Segment], added: dict[str, Any]
) -> Transcript:
    return replace(transcript, segments=tuple(segments), history=(*transcript.history, added))


def renamed(transcript: Transcript, mapping: dict[str, str], merge: bool) -> Transcript:
    """Speakers renamed (OLD -> NEW), with the entry that records which segments each had."""
    renames = [
        {"from": old, "to": new, "segments": _indices(transcript, old)}
        for old, new in mapping.items()
        if new != old
    ]
    if not renames:
        return transcript
    listed = ", ".join(f"{r['from']} -> {r['to']}" for r in renames)
    added = entry("rename", ("merged: " if merge else "renamed: ") + listed, renames=renames)
    changed = transcript.rename_speakers(mapping)
    return with_entry(transcript, changed.segments, added)


def _indices(transcript: Transcript, speaker: str) -> list[int]:
    return [i for i, s in enumerate(transcript.segments) if s.speaker == speaker]


def from_rename_log(lines: list[str], source: str) -> list[dict[str, Any]]:
    """The entries of a speaker-renames.jsonl an older tacit wrote beside the transcript."""
    import json

    entries = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
            renames = [
                {
                    "from": str(r["from"]),
                    "to": str(r["to"]),
                    "segments": [int(i) for i in r["segments"]],
                }
                for r in record["renames"]
            ]
        except (ValueError, KeyError, TypeError):
            raise TacitError(f"{source}: line {number}: not a rename record") from None
        listed = ", ".join(f"{r['from']} -> {r['to']}" for r in renames)
        entries.append(
            {"at": str(record.get("at", "")), "change": "rename", "what": f"renamed: {listed}",
             "renames": renames, "undoable": True}
        )  # fmt: skip
    return entries


def undo(transcript: Transcript, session_id: str, only: str | None = None) -> Transcript:
    """The transcript as it was before its last recorded change (that entry removed).

    `only`: refuse unless the last change is of that kind (`tacit speakers --undo`: a rename)."""
    if not transcript.history:
        raise TacitError(f"session {session_id} has no recorded change to undo")
    last = transcript.history[-1]
    change = last.get("change")
    if only is not None and change != only:
        raise TacitError(
            f"the last change to session {session_id} is a transcript {change}, not a {only}; "
            f"`tacit transcript edit {session_id} --undo` takes it back"
        )
    if not last.get("undoable", True):
        raise TacitError(
            f"session {session_id}: the changes left were made before `transcribe --force` "
            "remade its segments; they are listed by `tacit transcript history` but cannot be "
            "undone"
        )
    try:
        if change == "rename":
            segments = _undo_renames(transcript, session_id, last["renames"])
        else:
            segments = _undo_hunks(transcript, session_id, last["hunks"])
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        raise TacitError(
            f"session {session_id}: the last history entry is not one tacit wrote; nothing undone"
        ) from None
    return replace(transcript, segments=segments, history=transcript.history[:-1])


def _undo_hunks(transcript: Transcript, session_id: str, hunks: list[dict]) -> tuple:
    segments = list(transcript.segments)
    for hunk in sorted(hunks, key=lambda h: h["at"], reverse=True):
        at, count = int(hunk["at"]), int(hunk["count"])
        if [_shown(s) for s in segments[at : at + count]] != hunk["after"]:
            raise _changed_since(session_id)
        before = transcript_model.from_json({"segments": hunk["before"]}, "history").segments
        segments[at : at + count] = before
    return tuple(segments)


def _undo_renames(transcript: Transcript, session_id: str, renames: list[dict]) -> tuple:
    segments = list(transcript.segments)
    for rename in renames:
        old, new, indices = rename["from"], rename["to"], [int(i) for i in rename["segments"]]
        if any(i >= len(segments) or segments[i].speaker != new for i in indices):
            raise _changed_since(session_id)
        for i in indices:
            segments[i] = replace(segments[i], speaker=old)
    return tuple(segments)


def _changed_since(session_id: str) -> TacitError:
    return TacitError(
        f"session {session_id}: the transcript changed since its last recorded change "
        "(edited by hand?); nothing undone"
    )


def rows(transcript: Transcript) -> list[dict[str, Any]]:
    """The history for people and --json: newest last, each with the lines it changed."""
    listed = []
    for number, item in enumerate(transcript.history, start=1):
        listed.append(
            {
                "number": number,
                "at": item.get("at", ""),
                "change": item.get("change", ""),
                "what": item.get("what", ""),
                "undoable": bool(item.get("undoable", True)),
                "changes": list(_changed_lines(item)),
            }
        )
    return listed


def hunks_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    """An entry's hunks that are as tacit writes them: a hand-edited one is passed over by the
    readers (listing, terms, re-applying), never a crash."""
    found = item.get("hunks")
    if not isinstance(found, list):
        return []
    return [
        h for h in found
        if isinstance(h, dict) and _segments_ok(h.get("before")) and _segments_ok(h.get("after"))
    ]  # fmt: skip


def _segments_ok(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(s, dict)
        and isinstance(s.get("text", ""), str)
        and isinstance(s.get("speaker", ""), str)
        and all(isinstance(s.get(k, 0.0), int | float) for k in ("start", "end"))
        for s in value
    )


def _changed_lines(item: dict[str, Any]):
    """One line a changed segment: the words that changed (not the whole text), a new
    speaker, where a split cut it, or that it was dropped."""
    for hunk in hunks_of(item):
        before, after = hunk["before"], hunk["after"]
        if not before:
            continue
        said = [f"{was!r} -> {now!r}" for was, now in _phrase_pairs([hunk])]
        speaker = before[0].get("speaker")
        said += [f"speaker {speaker} -> {s.get('speaker')}" for s in after[:1]
                 if s.get("speaker") != speaker]  # fmt: skip
        said += [f"split at {timefmt.stamp(s.get('start', 0.0))}" for s in after[1:]]
        if not after:
            said = [f"dropped: {before[0].get('text', '')!r}"]
        yield f"{timefmt.stamp(before[0].get('start', 0.0))} " + "; ".join(said)
    renames = item.get("renames")
    for rename in renames if isinstance(renames, list) else ():
        if not isinstance(rename, dict):
            continue
        segments = rename.get("segments")
        count = len(segments) if isinstance(segments, list) else 0
        yield f"{rename.get('from')} -> {rename.get('to')} ({count} segments)"


def replaced_phrases(item: dict[str, Any]) -> list[tuple[str, str]]:
    """(heard, corrected) word runs of an edit or fix entry: what a correction changed. A fix
    is its own pair: WRONG and RIGHT as typed, whole, not the words of them that differ."""
    wrong, right = item.get("wrong", ""), item.get("right")
    if item.get("change") == "fix" and isinstance(right, str) and isinstance(wrong, str):
        return [(wrong, right)] if right else []
    return _phrase_pairs(hunks_of(item))


def _phrase_pairs(hunks) -> list[tuple[str, str]]:
    import difflib

    pairs = []
    for hunk in hunks:
        was = " ".join(s.get("text", "") for s in hunk.get("before", [])).split()
        now_ = " ".join(s.get("text", "") for s in hunk.get("after", [])).split()
        matcher = difflib.SequenceMatcher(a=[_plain(w) for w in was], b=[_plain(w) for w in now_])
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op != "equal":
                pairs.append((" ".join(was[a1:a2]), " ".join(now_[b1:b2])))
    return pairs


def _plain(word: str) -> str:
    return word.strip(".,;:!?\"'()").casefold()
