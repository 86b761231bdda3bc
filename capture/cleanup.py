"""From what the engine heard to transcript segments: times tight to the words, and the guard
against text that was never said (hallucinated in silence, or a repetition loop).

Pure logic over numpy arrays of frame activity, so it is tested with hand-made segments too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tacit.capture import audio
from tacit.capture.engine import Recognized
from tacit.records.transcript import Segment, Word

if TYPE_CHECKING:
    import numpy as np

# Whisper's own thresholds, applied to what survives its temperature fallback: a segment that
# still compresses this well is a loop ("the the the ..."); one the model itself thinks is
# no speech, and is unsure of, is noise read as words.
REPETITION_RATIO = 2.4
NO_SPEECH_PROB, LOW_LOGPROB = 0.6, -1.0


@dataclass(frozen=True)
class Dropped:
    start: float
    end: float
    text: str
    reason: str  # silence | repetition | no speech | empty


def _shift(words: tuple[Word, ...], offset: float, lo: float, hi: float) -> list[Word]:
    shifted = []
    for w in words:
        start = min(max(w.start + offset, lo), hi)
        end = min(max(w.end + offset, start), hi)
        shifted.append(replace(w, start=round(start, 3), end=round(end, 3)))
    return shifted


def _tighten(words: list[Word], active: np.ndarray) -> tuple[list[Word], bool]:
    """Trim each word to the audible frames it covers; say whether any word was audible.

    A word with no audible frame between audible ones keeps its times (Whisper's word times
    can be a few frames off). One before the first or after the last audible word was placed
    in silence: it is pinned to that word's edge, so the segment starts and ends on sound. A
    segment none of whose words is audible was not said: the caller drops it.
    """
    spans = [audio.trim(w.start, w.end, active) for w in words]
    audible = [i for i, span in enumerate(spans) if span is not None]
    if not audible:
        return list(words), False
    first, last = audible[0], audible[-1]
    tightened = []
    for i, (w, span) in enumerate(zip(words, spans, strict=True)):
        if span is not None:
            start, end = span
        elif i < first:
            start = end = spans[first][0]
        elif i > last:
            start = end = spans[last][1]
        else:
            start, end = w.start, w.end
        tightened.append(replace(w, start=round(start, 3), end=round(end, 3)))
    return tightened, True


def _reason(seg: Recognized) -> str | None:
    if not seg.text.strip():
        return "empty"
    if seg.compression_ratio > REPETITION_RATIO:
        return "repetition"
    if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOW_LOGPROB:
        return "no speech"
    return None


def _groups(words: list[Word]) -> list[list[Word]]:
    """Words split wherever a pause of LONG_SILENCE_S or more lies between two of them."""
    groups = [[words[0]]]
    for previous, word in zip(words, words[1:], strict=False):
        if word.start - previous.end >= audio.LONG_SILENCE_S:
            groups.append([])
        groups[-1].append(word)
    return groups


def clean(
    recognized: list[Recognized],
    *,
    offset: float,
    bounds: tuple[float, float],
    active: np.ndarray,
    speaker: str,
) -> tuple[list[Segment], list[Dropped]]:
    """Segments in recording time, tight to their words; and what the guard dropped, and why.

    `offset` is where the audio given to the engine starts in the recording, `bounds` the piece
    it belongs to (no time leaves it), `active` the recording's audible frames for this speaker.
    A segment that spans a long pause becomes two: a citation never points into the pause.
    """
    kept: list[Segment] = []
    dropped: list[Dropped] = []
    for seg in recognized:
        start, end = round(seg.start + offset, 3), round(seg.end + offset, 3)
        reason = _reason(seg)
        if reason is not None:
            dropped.append(Dropped(start, end, seg.text, reason))
            continue
        words = _shift(seg.words, offset, *bounds)
        timed = bool(words)
        if not timed:  # no word times (an engine without them): the segment is one "word"
            words = [Word(start=max(bounds[0], start), end=min(bounds[1], end), word=seg.text)]
        groups = _groups(words)
        for group in groups:
            group, heard = _tighten(group, active)
            text = seg.text if len(groups) == 1 else " ".join(w.word for w in group)
            if not heard:
                dropped.append(Dropped(group[0].start, group[-1].end, text, "silence"))
                continue
            kept.append(
                Segment(
                    start=group[0].start,
                    end=max(w.end for w in group),
                    speaker=speaker,
                    text=text.strip(),
                    words=tuple(group) if timed else (),
                )
            )
    return kept, dropped


def merge(*streams: list[Segment]) -> list[Segment]:
    """Segments of several speakers (channels) in time order."""
    merged = [seg for stream in streams for seg in stream]
    return sorted(merged, key=lambda s: (s.start, s.end, s.speaker))
