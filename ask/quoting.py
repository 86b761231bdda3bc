"""What an answer quotes: the sentences of a passage with their own speaker and time, scored
against a question; the cited moment is where the quoted sentence was said.

Sentences come from the chunk's marks (character offset, start, end), which the chunker wrote
from the transcript's own segment and word times. A chunk without marks (an observed step)
splits its lines by punctuation and every sentence carries the chunk's start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(A-Z0-9])")
# a question scores less as a headline: it asks, it does not answer
QUESTION_FACTOR = 0.3
# sentences by someone other than the session's expert, in a passage where the expert speaks:
# the interviewer's words, which never make the headline and rarely open an excerpt
OTHER_VOICE_FACTOR = 0.25
# the question an answer replies to counts too, less the further into the reply
PROMPT_WEIGHT = 0.6
MIN_WORDS = 4  # shorter sentences ("Yes.", "Right, okay.") are never quoted alone


@dataclass(frozen=True)
class Said:
    """One sentence of a chunk."""

    index: int  # its order in the chunk
    turn: int  # which speaker line of the chunk
    position: int  # its order within that line
    offset: int  # where it starts in chunk.text
    speaker: str  # "" for a guide's question ("Q: ...")
    text: str
    start: float | None
    end: float | None
    prompt: str  # what another speaker said just before this line (the question it answers)
    guide: bool = False  # a guide's question shown with a typed answer: nobody's words
    interviewer: bool = False  # said by the session's interviewer: never quoted as an answer


def _line_speaker(chunk: Any, line: str, expert_name: str) -> tuple[str, int]:
    """(speaker, length of the "Name: " prefix) of one line of a chunk."""
    if chunk.source == "answer" and line[:3] in ("Q: ", "A: "):
        return ("" if line[0] == "Q" else expert_name or (chunk.speakers or ("",))[0]), 3
    for speaker in sorted((s for s in chunk.speakers if s), key=len, reverse=True):
        if line.startswith(f"{speaker}:"):
            prefix = len(speaker) + 1
            return speaker, prefix + (1 if line[prefix : prefix + 1] == " " else 0)
    return "", 0


def sentences_of(chunk: Any, expert_name: str = "") -> list[Said]:
    """Every sentence of a chunk in reading order, with speaker, time and the prompt."""
    text = chunk.text
    lines: list[tuple[bool, str, str, int]] = []  # (guide's question, speaker, body, offset)
    at = 0
    for line in text.split("\n"):
        speaker, prefix = _line_speaker(chunk, line, expert_name)
        if prefix or not lines:
            if not speaker and not prefix and chunk.speakers and len(set(chunk.speakers)) == 1:
                speaker = chunk.speakers[0]
            guide = chunk.source == "answer" and line.startswith("Q: ")
            lines.append((guide, speaker, line[prefix:], at + prefix))
        else:  # a continuation line of the same speaker
            guide, who, body, offset = lines[-1]
            lines[-1] = (guide, who, body + "\n" + line, offset)
        at += len(line) + 1
    marks = sorted(chunk.marks or ())
    asker = getattr(chunk, "interviewer", "")
    found: list[Said] = []
    for turn, (guide, speaker, body, offset) in enumerate(lines):
        before = lines[turn - 1] if turn else None
        prompt = before[2] if before and before[1] != speaker else ""
        if marks:
            inside = [m for m in marks if offset <= m[0] < offset + len(body) + 1]
            pieces = []
            for n, (start_at, start, end) in enumerate(inside):
                stop = inside[n + 1][0] if n + 1 < len(inside) else offset + len(body)
                pieces.append((start_at, text[start_at:stop].strip(), start, end))
        else:
            pieces, cursor = [], offset
            for part in _SENTENCE.split(body):
                where = text.find(part, cursor)
                cursor = where + len(part)
                pieces.append((where, part.strip(), chunk.start, chunk.end))
        for position, (where, sentence, start, end) in enumerate(pieces):
            if sentence:
                found.append(
                    Said(
                        len(found),
                        turn,
                        position,
                        where,
                        speaker,
                        sentence,
                        start,
                        end,
                        prompt,
                        guide,
                        bool(asker) and speaker == asker,
                    )
                )
    return found


def scorer(held: Callable[[str], float]) -> Callable[..., float]:
    """A function (sentence, the session expert's name, whether the expert speaks in the
    passage) -> how well it answers the question: the share of the question's rare-word
    weight it holds (`held`), plus that of the question its turn replies to."""

    def score(said: Said, expert_name: str, expert_speaks: bool = True) -> float:
        value = held(said.text) + PROMPT_WEIGHT * held(said.prompt) / (1 + said.position)
        if said.text.rstrip().endswith("?"):
            value *= QUESTION_FACTOR
        if expert_speaks and expert_name and said.speaker != expert_name:
            value *= OTHER_VOICE_FACTOR
        if len(said.text.split()) < MIN_WORDS:
            value *= 0.5
        return value

    return score


def quotable(said: Said) -> bool:
    """A sentence that may be quoted as an answer: someone's words, not a guide's prompt nor
    the session's interviewer's."""
    return not said.guide and not said.interviewer and len(said.text.split()) >= MIN_WORDS


def interviewer_only(chunk: Any) -> bool:
    """A passage only the session's interviewer speaks in: no evidence of what anyone knows."""
    asker = getattr(chunk, "interviewer", "")
    return bool(asker) and chunk.source == "transcript" and set(chunk.speakers) <= {asker}


def best_sentence(chunk: Any, expert_name: str, score: Callable[..., float]) -> Said | None:
    """The sentence of a chunk that best answers the question: the excerpt starts there."""
    found = [s for s in sentences_of(chunk, expert_name) if not s.guide]
    found = [s for s in found if not s.interviewer] or found
    if not found:
        return None
    speaks = expert_name in {s.speaker for s in found}
    return max(found, key=lambda s: (score(s, expert_name, speaks), -s.index))
