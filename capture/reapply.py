"""Corrections kept over `tacit transcribe --force`: the new words are the model's again, so each
earlier edit and fix is re-applied where the words it corrected are still there, and listed
where they are not (the model now hears it differently, or the edit split or dropped a segment).

Speaker names go with the voices they named (carry_names). Of the corrections, only text and
speakers carry over: a split or a dropped segment is a choice about the old segments' times,
which the new transcription has its own of. What was re-applied is one
`retranscribe` history entry, so it can be undone; the older entries stay, to be listed, but
cannot be undone, as the segments they name are gone.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tacit.capture import history, retime
from tacit.capture.corrections import pattern
from tacit.core import timefmt
from tacit.records.transcript import Segment, Transcript

CORRECTIONS = ("edit", "fix")


@dataclass(frozen=True)
class Carried:
    segments: tuple[Segment, ...]
    history: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...]  # corrections not re-applied, one line each


def carry(old: Transcript, segments: Sequence[Segment], discard: bool = False) -> Carried:
    """The new segments with the old transcript's speaker names (carry_names) and corrections
    (none if `discard`) kept, and the history the new transcript keeps."""
    segments = carry_names(old, list(segments))
    kept = tuple({**item, "undoable": False} for item in old.history)
    corrections = [item for item in old.history if item.get("change") in CORRECTIONS]
    if not corrections:
        return Carried(tuple(segments), kept, ())
    fresh = Transcript(segments=tuple(segments))
    if discard:
        what = f"transcribed again; {len(corrections)} earlier correction(s) discarded"
        added = {**history.entry("retranscribe", what, hunks=[]), "undoable": False}
        return Carried(tuple(segments), (*kept, added), ())
    working = list(segments)
    missed: list[str] = []
    done = 0
    for item in corrections:
        for hunk in history.hunks_of(item):
            lost = _reapply(working, hunk)
            done += not lost
            missed += [f"{item.get('change')} of {item.get('at')}: {line}" for line in lost]
    replaced = {
        i: [_retimed(seg, working[i])] for i, seg in enumerate(segments) if working[i] != seg
    }
    new_segments, hunks = history.replace_segments(fresh, replaced)
    what = f"transcribed again; {done} correction(s) re-applied, {len(missed)} not"
    added = history.entry("retranscribe", what, hunks=hunks, not_reapplied=missed)
    if not hunks:
        added["undoable"] = False
    return Carried(new_segments, (*kept, added), tuple(missed))


def _retimed(heard: Segment, corrected: Segment) -> Segment:
    if corrected.text == heard.text:
        return corrected
    words = retime.words_for(corrected.text, heard.words, heard.start, heard.end)
    return replace(corrected, words=words)


def _reapply(working: list[Segment], hunk: dict[str, Any]) -> list[str]:
    """Re-apply one hunk to the new segments it overlaps (in place); what could not be."""
    before, after = hunk.get("before", []), hunk.get("after", [])
    if not before:
        return []
    lo, hi = min(s["start"] for s in before), max(s["end"] for s in before)
    where = timefmt.stamp(lo)
    near = [i for i, seg in enumerate(working) if min(seg.end, hi) - max(seg.start, lo) > 0]
    lost = []
    if len(before) != 1 or len(after) != 1:
        lost.append(f"{where} split or dropped segment: the new segments stay as heard")
    was = " ".join(s.get("text", "") for s in before)
    now = " ".join(s.get("text", "") for s in after)
    for heard, right in _pairs(was, now):
        if not _replace_in(working, near, heard, right):
            lost.append(f"{where} {heard!r} -> {right!r}: the new words differ there")
    was_speaker = before[0].get("speaker")
    for part in after:  # a speaker changed: on the new segments mostly inside that part's time
        name = part.get("speaker")
        if name != was_speaker and not _rename_in(
            working, near, part["start"], part["end"], was_speaker, name
        ):
            lost.append(f"{timefmt.stamp(part['start'])} speaker {was_speaker} -> {name}: "
                        "no new segment mostly inside its time")  # fmt: skip
    return lost


def _pairs(was: str, now: str) -> list[tuple[str, str]]:
    """(old words, new words) of each change, never with nothing to look for: a word put in
    or taken out is found by the words either side of it."""
    a, b = was.split(), now.split()
    matcher = difflib.SequenceMatcher(a=[w.casefold() for w in a], b=[w.casefold() for w in b])
    pairs = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if a1 == a2 or b1 == b2:  # an insert or a delete: take the neighbours along
            if a1 == 0 and a2 == len(a):
                continue  # nothing was kept to find the place by
            if a1 > 0:
                a1, b1 = a1 - 1, b1 - 1
            if a2 < len(a):
                a2, b2 = a2 + 1, b2 + 1
        pairs.append((" ".join(a[a1:a2]), " ".join(b[b1:b2])))
    return pairs


def _replace_in(working: list[Segment], near: list[int], heard: str, right: str) -> bool:
    find = pattern(heard)
    for i in near:
        text = working[i].text
        if find.search(text):
            working[i] = replace(working[i], text=find.sub(lambda _m: right, text, count=1))
            return True
    already = pattern(right) if right.strip() else None
    return already is not None and any(already.search(working[i].text) for i in near)


def _rename_in(working, near, lo: float, hi: float, was: str, name: str) -> bool:
    changed = False
    for i in near:
        seg = working[i]
        inside = min(seg.end, hi) - max(seg.start, lo)
        if inside > (seg.end - seg.start) / 2 and seg.speaker in (was, name):
            working[i] = replace(seg, speaker=name)
            changed = True
    return changed


def carry_names(old: Transcript, segments: list[Segment]) -> list[Segment]:
    """Names given to speakers before `transcribe --force` stay with the same voices: a new
    SPEAKER_n takes the old name that covers most of its words' time, if that is over half."""
    import re

    anonymous = re.compile(r"SPEAKER_\d+$")
    held: dict[str, dict[str, float]] = {}
    for seg in segments:
        if not anonymous.match(seg.speaker):
            continue
        share = held.setdefault(seg.speaker, {})
        for was in old.segments:
            overlap = min(seg.end, was.end) - max(seg.start, was.start)
            if overlap > 0:
                share[was.speaker] = share.get(was.speaker, 0.0) + overlap
    taken = {s.speaker for s in segments}
    mapping = {}
    for label, share in held.items():
        name, seconds = max(share.items(), key=lambda kv: kv[1], default=("", 0.0))
        total = sum(s.end - s.start for s in segments if s.speaker == label)
        fresh = name not in taken and name not in mapping.values()
        if name and not anonymous.match(name) and fresh and seconds > total / 2:
            mapping[label] = name
    return [replace(s, speaker=mapping.get(s.speaker, s.speaker)) for s in segments]
