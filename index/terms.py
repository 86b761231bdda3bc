"""Words of a question: content terms, crude stems, codes (part numbers) and highlighting."""

from __future__ import annotations

import re
from collections.abc import Iterable

_STOPWORDS_TEXT = """a about above after again against all am an and any are as at be because
    been before being below between both but by can could did do does doing down during each few
    for from further
    get got had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your
    yours ok okay yeah well really thing things know think like one two also still much many
    anything something someone somebody way ever need needs want make"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-./]*[A-Za-z0-9]|[A-Za-z0-9]")


def stem(word: str) -> str:
    """A crude suffix strip: enough to match 'resets' with 'reset' when highlighting."""
    word = word.lower().strip("'-./")
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            if suffix in ("ing", "ed") and word[-1] == word[-2] and word[-1] not in "aeiouls":
                word = word[:-1]  # resetting -> reset, stopped -> stop
            return word
    return word


def content_terms(text: str) -> tuple[str, ...]:
    """The words of a query that carry meaning, in order, without repeats."""
    terms = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in terms if w not in STOPWORDS and (len(w) > 2 or is_code(w))]
    return tuple(dict.fromkeys(kept))


def is_code(term: str) -> bool:
    """Part numbers, alarm codes, tags: a digit in a word (E-414, 7741-KX-22, AHU-3)."""
    return (
        any(c.isdigit() for c in term)
        and any(c.isalpha() for c in term)
        or ("-" in term and any(c.isdigit() for c in term))
    )


def term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that finds every query term (and its inflections) in a passage."""
    parts = sorted({re.escape(stem(t)) for t in terms if stem(t)}, key=len, reverse=True)
    if not parts:
        return None
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(parts) + r")[A-Za-z0-9'-]*", re.IGNORECASE)


CHAT_WORDS = frozenset({"quit", "q", "exit", "expert", "kind", "session", "play", "help", "bye"})


def looks_like_chat_command(text: str) -> bool:
    """A chat command typed wrong (`;quit`, `/help`, `expert maria`, `play 2`), not a question."""
    words = text.strip().split()
    if not words:
        return False
    first = words[0].lstrip(":;/\\.!").lower()
    if words[0][0] in ":;/\\!" and len(words) <= 3:
        return True
    return first in CHAT_WORDS and len(words) <= 2 and "?" not in text


def worth_an_agenda(question: str) -> bool:
    """Whether a question the KB could not answer should reach an expert's agenda: it has
    content words ("and what should I not do?" has none) and is no chat command."""
    return bool(content_terms(question)) and not looks_like_chat_command(question)
