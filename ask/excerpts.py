"""From a retrieved passage to what a protégé reads: the cited excerpt (starting at the sentence
that answers), its citation and media link, the headline sentence, and when a passage counts as
an answer at all (the thresholds). `answers.py` puts these together; `expertise.py` (who knows)
uses the same excerpts and thresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tacit.ask import quoting
from tacit.core import timefmt
from tacit.core.workspace import Workspace
from tacit.index.terms import is_code
from tacit.records import experts as experts_module

# Not captured: the best dense cosine is below RELEVANCE_THRESHOLD and no passage among the top
# three holds LEXICAL_THRESHOLD of the question's rare-word (IDF) weight word for word ("sulphite
# residual", "3000 ppm" are answers whatever their cosine) and none holds a code from it.
# Calibrated with benchmarks/retrieval_eval.py on QMSum train (40 meetings; out of scope: the
# questions of 8 more) and on benchmarks/eval (32 out-of-scope questions), best mean balanced
# accuracy of the two: 0.834 (was 0.806 at a cosine of 0.45 alone). `[index]
# relevance_threshold` and `lexical_threshold` in tacit.toml override them.
RELEVANCE_THRESHOLD = 0.46


LEXICAL_THRESHOLD = 0.45


# the headline's sentence may come from the top three passages; a better-ranked passage adds
# this much (over its rank) to its sentences' scores
RANK_WEIGHT = 0.15


EXCERPT_WORDS = 30  # an excerpt shorter than this from its cited moment reads on


# the fields of one result in `ask --json`, in this order
_RESULT_KEYS = (
    "chunk_id", "session", "expert", "speaker", "start", "end", "text", "score", "citation",
    "media",
)  # fmt: skip


@dataclass(frozen=True)
class Excerpt:
    chunk_id: str
    session: str
    expert: str
    expert_name: str
    role: str
    speaker: str
    start: float | None
    end: float | None
    text: str
    score: float
    citation: str
    media: str | None  # recording path relative to the KB root plus "#t=SECONDS"
    source: str = "transcript"
    dense_score: float | None = None
    lexical_score: float | None = None
    original: str = ""  # a non-English session's own words over the same moments
    language: str = ""  # theirs; `text` is then the English rendering

    def to_json(self) -> dict[str, Any]:
        data = {key: getattr(self, key) for key in _RESULT_KEYS}
        data["score"] = round(self.score, 6)
        if self.original:
            data.update(language=self.language, original=self.original, english=self.text)
        return data


@dataclass(frozen=True)
class AnswerSource:
    """Who said the headline's first sentence, and when: the cited moment of the answer."""

    session: str
    speaker: str
    start: float | None
    end: float | None
    citation: str
    media: str | None
    original: str = ""  # a non-English session's own words for the quoted English
    language: str = ""

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        if not self.original:
            del data["original"], data["language"]
        return data


def original_words(chunk: Any, start: float | None, end: float | None) -> str:
    """A non-English chunk's own words from `start` to `end` (its segments that overlap them,
    each at least half inside); "" for an English chunk. The English and these are cited at
    the same second: the rendering is aligned to the segments (capture/languages)."""
    if not chunk.originals:
        return ""
    lo = chunk.start if start is None else start
    hi = chunk.end if end is None else end
    picked = [
        text
        for a, b, text in chunk.originals
        if min(b, hi) - max(a, lo) >= min(0.5 * (b - a), 0.5 * max(hi - lo, 0.0)) and b > lo
    ]
    return "\n".join(picked)


@dataclass(frozen=True)
class Suggestion:
    """An expert named as likely to know the answer to a question the KB cannot answer yet."""

    slug: str
    name: str
    role: str
    why: str


def media_link(chunk: Any, start: float | None) -> str | None:
    """The chunk's recording, relative to the KB root, at a second: 'sessions/x/a.ogg#t=12.5'."""
    return f"{chunk.media}#t={timefmt.media_seconds(start or 0.0)}" if chunk.media else None


def citation(session: str, speaker: str, start: float | None) -> str:
    parts = [session, speaker] + ([timefmt.clock(start)] if start is not None else [])
    return "[" + " · ".join(p for p in parts if p) + "]"


def _plain_score(said: quoting.Said, expert_name: str, expert_speaks: bool = True) -> float:
    """Without a question (who-knows evidence): the expert's first sentence of the passage."""
    return float(said.speaker == expert_name or not expert_speaks) - said.index * 1e-3


def excerpt(
    hit: Any, people: dict[str, experts_module.Expert], score: Any = None, lexicon: Any = None
) -> Excerpt:
    """A hit as it is shown: from its best sentence (the cited moment) to the passage's end,
    cited by who said that sentence, when; one that would be shorter than EXCERPT_WORDS reads
    on into the next passage of the recording. A typed answer keeps its question for context."""
    chunk = hit.chunk
    expert = people.get(chunk.expert)
    name = expert.name if expert else chunk.expert
    best = quoting.best_sentence(chunk, name, score or _plain_score)
    speaker = best.speaker if best is not None and best.speaker else _fallback_speaker(chunk, name)
    start, end, text = chunk.start, chunk.end, chunk.text
    if best is not None and chunk.source == "transcript":
        start = best.start if best.start is not None else chunk.start
        text = (f"{best.speaker}: " if best.speaker else "") + chunk.text[best.offset :]
        after = lexicon.following(chunk) if lexicon is not None else None
        if after is not None and len(text.split()) < EXCERPT_WORDS:
            text, end = _joined(text, after.text), after.end
    media = media_link(chunk, start)
    return Excerpt(
        chunk_id=chunk.id,
        session=chunk.session,
        expert=chunk.expert,
        expert_name=name,
        role=expert.role if expert else "",
        speaker=speaker,
        start=start,
        end=end,
        text=text,
        score=float(hit.score),
        citation=citation(chunk.session, speaker, start),
        media=media,
        source=chunk.source,
        dense_score=hit.dense_score,
        lexical_score=hit.lexical_score,
        original=original_words(chunk, start, end),
        language=chunk.language,
    )


def _joined(text: str, after: str) -> str:
    """Two passages as one excerpt: a turn that goes on across them stays one line."""
    last = text.rsplit("\n", 1)[-1]
    speaker, colon, _ = last.partition(": ")
    if colon and after.startswith(f"{speaker}: "):
        return f"{text} {after[len(speaker) + 2 :]}"
    return f"{text}\n{after}"


def _fallback_speaker(chunk: Any, expert_name: str) -> str:
    speakers = [s for s in chunk.speakers if s]
    return expert_name if expert_name in speakers or not speakers else speakers[0]


def extract_answer(
    results: tuple[Excerpt, ...], hits: list[Any], score: Any, top: int = 3
) -> tuple[str, AnswerSource | None]:
    """The sentences of the top passages that best answer the question, cited where the first
    of them was said, by who said it.

    Only someone's words are quoted: never a guide's prompt, and never the interviewer's when
    the expert speaks in the passage. The best sentence is followed by the next one of the
    same reply, which usually completes it ("Never ignore that one. Shut the burner and call
    me."); the passage's rank adds a little.
    """
    candidates: list[tuple[float, int, quoting.Said, list[quoting.Said]]] = []
    for rank, hit in enumerate(hits[:top]):
        name = results[rank].expert_name
        found = quoting.sentences_of(hit.chunk, name)
        speaks = name in {s.speaker for s in found}
        for said in found:
            if not quoting.quotable(said) or (speaks and said.speaker != name):
                continue
            value = score(said, name, speaks) + RANK_WEIGHT / (rank + 1)
            candidates.append((value, rank, said, found))
    if not candidates:
        return "", None
    value, rank, best, found = max(candidates, key=lambda c: (c[0], -c[1], -c[2].index))
    quoted = [best]
    after = found[best.index + 1] if best.index + 1 < len(found) else None
    if after is not None and after.turn == best.turn and quoting.quotable(after):
        quoted.append(after)
    result, chunk = results[rank], hits[rank].chunk
    start = best.start if chunk.source == "transcript" else result.start
    end = quoted[-1].end if chunk.source == "transcript" else result.end
    cited = citation(chunk.session, best.speaker, start)
    media = media_link(chunk, start)
    source = AnswerSource(chunk.session, best.speaker, start, end, cited, media,
                          original_words(chunk, start, end), chunk.language)  # fmt: skip
    return " ".join([*(q.text for q in quoted), cited]), source


def exact_code_match(terms: tuple[str, ...], hits: list[Any]) -> bool:
    """A part number or code from the question that a hit contains word for word: BM25's
    evidence, which a low cosine must not overrule."""
    codes = [t for t in terms if is_code(t)]
    return any(
        re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", hit.chunk.text, re.IGNORECASE)
        for code in codes
        for hit in hits[:3]
    )


_EXPERTS: dict[Path, tuple[int, experts_module.Expert]] = {}


def known_experts(ws: Workspace) -> dict[str, experts_module.Expert]:
    """Every expert by slug; a file is parsed again only when it changed (chat, --file)."""
    found = {}
    for path in sorted(ws.experts_dir.glob("*.md")) if ws.experts_dir.is_dir() else ():
        stamp = path.stat().st_mtime_ns
        cached = _EXPERTS.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, experts_module.load_file(path))
            _EXPERTS[path] = cached
        found[cached[1].slug] = cached[1]
    return found


def threshold_for(ws: Workspace) -> float:
    given = float(ws.config.index.get("relevance_threshold") or 0.0)
    return given if given > 0 else RELEVANCE_THRESHOLD


def lexical_threshold_for(ws: Workspace) -> float:
    given = float(ws.config.index.get("lexical_threshold") or 0.0)
    return given if given > 0 else LEXICAL_THRESHOLD
