"""Word times for corrected text: the words that stayed keep the times the model heard; the
words that changed get times spread over the span of the words they replace, marked approximate.

A citation points at a segment's start, which never moves in an edit; word times matter for
quotes and clips, so a guess must say it is one rather than pass for what the model heard.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from tacit.records.transcript import Word

_EDGE = re.compile(r"^\W+|\W+$")


def _key(token: str) -> str:
    """A word as the alignment compares it: 'Heating,' and 'heating' are the same word."""
    return _EDGE.sub("", token).casefold() or token


def words_for(text: str, old: Sequence[Word], start: float, end: float) -> tuple[Word, ...]:
    """Words for `text` between start and end, aligned to the `old` words heard there.

    No old words (an imported transcript without word times): none are made up."""
    if not old:
        return ()
    tokens = text.split()
    matcher = difflib.SequenceMatcher(
        a=[_key(w.word) for w in old], b=[_key(t) for t in tokens], autojunk=False
    )
    made: list[Word] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            made += [_same(old[a1 + i], tokens[b1 + i]) for i in range(b2 - b1)]
            continue
        if b1 == b2:
            continue  # words taken out: nothing to time
        if a2 > a1:  # words replaced: the new ones take the old ones' span
            lo, hi = old[a1].start, old[a2 - 1].end
        else:  # words put in: the gap between their neighbours
            lo = made[-1].end if made else start
            hi = old[a1].start if a1 < len(old) else end
        made += _spread(tokens[b1:b2], max(lo, start), min(max(hi, lo), end))
    return tuple(made)


def _same(heard: Word, token: str) -> Word:
    """A word kept: its times stay; a change of case or punctuation is taken as written."""
    return Word(heard.start, heard.end, token, heard.probability, heard.approximate)


def _spread(tokens: list[str], lo: float, hi: float) -> list[Word]:
    """Times for new words over [lo, hi], shared by length (a long word takes longer to say)."""
    weights = [len(t) + 1 for t in tokens]
    total = sum(weights)
    words, at = [], lo
    for token, weight in zip(tokens, weights, strict=True):
        until = at + (hi - lo) * weight / total
        words.append(Word(round(at, 3), round(until, 3), token, 1.0, approximate=True))
        at = until
    return words


def words_between(words: Sequence[Word], start: float, end: float) -> list[Word]:
    """The words whose middle falls in [start, end): a split segment's share of its words. A
    word the cut goes through is held inside its piece, and its times marked approximate."""
    share = []
    for w in words:
        if not start <= (w.start + w.end) / 2 < end:
            continue
        lo, hi = max(w.start, start), min(w.end, end)
        held = (lo, hi) == (w.start, w.end)
        share.append(w if held else Word(lo, hi, w.word, w.probability, approximate=True))
    return share
