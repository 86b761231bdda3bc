"""The readable form of a transcript that `tacit transcript edit` opens in $EDITOR, and its parser.

One line a segment, `[START --> END] SPEAKER: text`. The times are the segment's anchor to the
recording: they must come back as they were, in order, so each line is matched to its segment by
its times alone, and a line lost or pasted twice is caught. A line `[TIME] SPEAKER: text` right
under a segment splits it at TIME. Any line that does not parse is refused with its number, and
the parse gives the whole plan or nothing: a broken edit never half-applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tacit.core import timefmt
from tacit.core.errors import TacitError
from tacit.records import sessions
from tacit.records.transcript import Transcript

HELP = """\
# Session {session}: correct the text and the speakers, then save and quit.
#
# One line a segment: [START --> END] SPEAKER: text
# - change the text or the SPEAKER; leave [START --> END] as it is: times come from the recording
# - split a segment: add a line under it with a time inside it: [00:01:02.500] SPEAKER: text
# - empty text after 'SPEAKER:' drops that segment (the line itself must stay)
# - lines starting with '#' and blank lines are ignored; quit without saving to change nothing
"""

_SEGMENT = re.compile(r"^\[(\d{2,}:\d{2}:\d{2}\.\d{3}) --> (\d{2,}:\d{2}:\d{2}\.\d{3})\](.*)$")
_SPLIT = re.compile(r"^\[(\d{1,}:\d{2}:\d{2}(?:\.\d{1,3})?)\](.*)$")
_TIME = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)(?:\.(\d{1,3}))?$")


@dataclass(frozen=True)
class Part:
    """One segment of the edited transcript: from `start` to the next part's start (or end)."""

    start: float
    speaker: str
    text: str


@dataclass(frozen=True)
class Planned:
    """What the edit makes of one original segment: one part, or more where it was split."""

    index: int  # the segment's place in the transcript
    parts: tuple[Part, ...]


def render(transcript: Transcript, session_id: str) -> str:
    lines = [HELP.format(session=session_id)]
    for seg in transcript.segments:
        lines.append(
            f"{_times(seg.start, seg.end)} {_one_line(seg.speaker)}: {_one_line(seg.text)}"
        )
    return "\n".join(lines) + "\n"


def _times(start: float, end: float) -> str:
    return f"[{timefmt.cue(start)} --> {timefmt.cue(end)}]"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def seconds(text: str) -> float | None:
    """'01:02:03.5' -> 3723.5; None when it is not such a time."""
    found = _TIME.match(text.strip())
    return timefmt.from_parts(*found.groups()) if found else None


def parse(text: str, transcript: Transcript) -> list[Planned]:
    """The edited readable form -> a plan for every segment; TacitError naming the line."""
    anchors = [_times(s.start, s.end) for s in transcript.segments]
    planned: list[Planned] = []
    last_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        last_line = number
        line = line.strip()
        whole = _SEGMENT.match(line)
        if whole:
            planned.append(_segment_line(number, whole, anchors, transcript, len(planned)))
            continue
        split = _SPLIT.match(line)
        if split:
            if not planned:
                raise _refused(number, "a split line must come under the segment it splits")
            planned[-1] = _split_line(number, split, planned[-1], transcript)
            continue
        raise _refused(
            number,
            "not a segment line: each starts with [START --> END], or [TIME] to split "
            "(join a wrapped line to the one above)",
        )
    if not planned and anchors:
        raise TacitError("the edited file holds no segment line; nothing changed")
    if len(planned) < len(anchors):
        missing = len(planned)
        raise _refused(
            last_line + 1,
            f"segment {missing + 1} {anchors[missing]} is missing at the end; every segment "
            "keeps its line (empty its text to drop it)",
        )
    return planned


def _segment_line(number: int, found, anchors: list[str], transcript: Transcript, at: int):
    anchor = f"[{found.group(1)} --> {found.group(2)}]"
    if at < len(anchors) and anchor == anchors[at]:
        segment = transcript.segments[at]
        speaker, words = _speaker_and_text(number, found.group(3), segment.speaker)
        return Planned(at, (Part(segment.start, speaker, words),))
    if anchor in anchors[at + 1 :]:
        raise _refused(
            number,
            f"segment {at + 1} {anchors[at]} is missing above this line; every segment keeps "
            "its line (empty its text to drop it)",
        )
    if anchor in anchors[:at]:
        raise _refused(number, f"{anchor} is there twice, or out of order")
    expected = anchors[at] if at < len(anchors) else "no more segments"
    raise _refused(
        number,
        f"times {anchor} changed (expected {expected}); times come from the recording: "
        "edit the text and speaker only, or add a [TIME] line to split",
    )


def _split_line(number: int, found, above: Planned, transcript: Transcript) -> Planned:
    segment = transcript.segments[above.index]
    at = seconds(found.group(1))
    previous = above.parts[-1]
    if at is None:
        raise _refused(number, f"[{found.group(1)}] is not a time hh:mm:ss.mmm")
    if not previous.start < at < segment.end:
        inside = _times(previous.start, segment.end)
        raise _refused(
            number, f"split time [{found.group(1)}] is not inside {inside}, the segment above"
        )
    speaker, words = _speaker_and_text(number, found.group(2), previous.speaker)
    return Planned(above.index, (*above.parts, Part(round(at, 3), speaker, words)))


def _speaker_and_text(number: int, rest: str, speaker: str) -> tuple[str, str]:
    """'SPEAKER: text' -> (speaker, text). A name kept as it was is taken as it is (an imported
    name may hold a ':'); a changed one must be a name every export keeps."""
    rest = rest.strip()
    for known in (speaker, _one_line(speaker)):
        if rest == f"{known}:" or rest.startswith(f"{known}: "):
            return speaker, rest[len(known) + 1 :].strip()
    name, colon, words = rest.partition(":")
    if not colon or not name.strip():
        raise _refused(number, "no 'SPEAKER:' before the text")
    try:
        return sessions.speaker_name(name), words.strip()
    except TacitError as exc:
        raise _refused(number, exc.message) from None


def _refused(number: int, why: str) -> TacitError:
    return TacitError(f"line {number}: {why}; nothing changed")
