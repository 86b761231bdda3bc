"""A transcript cut into sentences (each with its speaker and time, from Whisper's word times)
and the sentences gathered into passages of about `chunk_words` along speaker turns.

The chunker (chunker.py) turns the passages into chunks; this part knows only segments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tacit.records.transcript import Segment


# A passage closes at a turn change once it holds this share of chunk_words (so an exchange
# stays together), and before a sentence that would take it past chunk_words.
TURN_FILL = 0.5


# A final passage shorter than this share of chunk_words joins the one before it.
TAIL_MERGE = 0.25


# Text with no sentence punctuation at all (some transcripts) is cut at a segment end
# once a "sentence" grows past this many times chunk_words.
RUNAWAY = 2.0


_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


# a full stop after these ends a word, not a sentence ("Mrs. Harrington", "e.g. the pump")
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "e.g.", "i.e.", "vs.", "approx."}


@dataclass(frozen=True)
class Sentence:
    speaker: str
    text: str
    start: float
    end: float

    @property
    def words(self) -> int:
        return len(self.text.split())


def _timed_tokens(segment: Segment) -> list[tuple[str, float, float]]:
    """Each whitespace token of a segment with a time: word stamps when they line up,
    else spread over the segment in proportion to characters."""
    tokens = segment.text.split()
    if segment.words and len(segment.words) == len(tokens):
        return [(t, w.start, w.end) for t, w in zip(tokens, segment.words, strict=True)]
    total = sum(len(t) + 1 for t in tokens) or 1
    span = max(segment.end - segment.start, 0.0)
    timed, done = [], 0
    for token in tokens:
        start = segment.start + span * done / total
        done += len(token) + 1
        timed.append((token, start, segment.start + span * done / total))
    return timed


def sentences(segments: Iterable[Segment], chunk_words: int) -> list[Sentence]:
    """Split a transcript into sentences with times; a speaker change always ends one."""
    found: list[Sentence] = []
    words: list[tuple[str, float, float]] = []
    speaker = ""

    def close() -> None:
        if words:
            text = " ".join(w for w, _, _ in words)
            found.append(Sentence(speaker, text, words[0][1], words[-1][2]))
            words.clear()

    for segment in segments:
        if segment.speaker != speaker:
            close()
            speaker = segment.speaker
        for token in _timed_tokens(segment):
            words.append(token)
            if _SENTENCE_END.search(token[0]) and token[0].lower() not in _ABBREVIATIONS:
                close()
        if len(words) > RUNAWAY * chunk_words:
            close()
    close()
    return found


def passages(found: list[Sentence], chunk_words: int) -> list[list[Sentence]]:
    """Group sentences into passages of about chunk_words that follow speaker turns."""
    result: list[list[Sentence]] = []
    current: list[Sentence] = []
    count = 0
    for sentence in found:
        turn_change = bool(current) and sentence.speaker != current[-1].speaker
        if current and (
            (turn_change and count >= TURN_FILL * chunk_words)
            or count + sentence.words > chunk_words
        ):
            result.append(current)
            current, count = [], 0
        current.append(sentence)
        count += sentence.words
    if current:
        if result and count < TAIL_MERGE * chunk_words:
            result[-1] = result[-1] + current
        else:
            result.append(current)
    return result


def marked_text(passage: list[Sentence]) -> tuple[str, tuple[tuple[int, float, float], ...]]:
    """'Speaker: sentence sentence' lines, and where each sentence starts in them, with its
    own times."""
    text, marks = "", []
    speaker = None
    for sentence in passage:
        if sentence.speaker != speaker:
            speaker = sentence.speaker
            text += ("\n" if text else "") + (f"{speaker}: " if speaker else "")
        elif text:
            text += " "
        marks.append((len(text), round(sentence.start, 3), round(sentence.end, 3)))
        text += sentence.text
    return text, tuple(marks)
