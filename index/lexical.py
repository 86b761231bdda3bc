"""The lexical index: BM25 (bm25s) over chunk text, for exact names, part numbers and jargon.

bm25s cannot delete a document, and building it is fast, so it is rebuilt whole whenever the
set of chunks changes. It is built in a new folder and swapped in by rename: a reader or a
crash never sees half an index.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.index.chunker import Chunk

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace

CHUNKS_NAME = "chunks.jsonl"
META_NAME = "meta.json"


def lexical_dir(ws: Workspace) -> Path:
    return ws.cache_dir / "lexical"


# Bump whenever tokens() gives other tokens for the same text: the digest then changes, so
# `tacit index` rebuilds the lexical index, and a reader of an old one is told to.
TOKENIZER_VERSION = 2
# a code keeps its joined form: a letter and a digit, or a digit beside a hyphen (AHU-3, E-414)
_TOKEN = re.compile(r"[0-9a-z]+(?:[-./][0-9a-z]+)*")
_PARTS = re.compile(r"[-./]")


def digest(ids: Iterable[str]) -> str:
    """Names a set of chunk ids and the tokenizer: tells whether the lexical index matches."""
    text = f"tokenizer {TOKENIZER_VERSION}\n" + "\n".join(sorted(ids))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def _is_code(word: str) -> bool:
    digits = any(c.isdigit() for c in word)
    return digits and (any(c.isalpha() for c in word) or "-" in word)


def tokens(text: str) -> list[str]:
    """The index's and the query's tokens: lower case, English stop words out, Snowball stems;
    a code (AHU-3, E-414, 7741-KX-22) is kept whole and also gives its parts, so "AHU-3" is a
    rare token of its own while "AHU 3" still matches it; plain numbers stay ("3000 ppm")."""
    stem, stop = _stemmer().stemWord, _stopwords()
    found: list[str] = []
    for word in _TOKEN.findall(text.lower()):
        parts = [p for p in _PARTS.split(word) if p]
        if _is_code(word):
            found.append(word)
            found += parts if len(parts) > 1 else []
            continue
        found += [stem(p) for p in parts if p not in stop and (len(p) > 1 or p.isdigit())]
    return found


def share_held(query: str, weight: Callable[[str], float]) -> Callable[[str], float]:
    """A function: text -> the share of the question's word weight (weight per token, e.g.
    IDF) that the text holds word for word, 0..1. The gap test's lexical evidence and the
    scoring of an answer's sentences both measure this."""
    weights = {t: weight(t) for t in dict.fromkeys(tokens(query))}
    total = sum(weights.values()) or 1.0

    def held(text: str) -> float:
        words = set(tokens(text))
        return sum(w for t, w in weights.items() if t in words) / total

    return held


def tokenize(texts: list[str]) -> list[list[str]]:
    return [tokens(t) for t in texts]


def build(ws: Workspace, chunks: list[Chunk]) -> None:
    """Write the index for exactly these chunks, replacing the old one in one rename."""
    os.umask(0o077)
    target = lexical_dir(ws)
    fresh = target.with_name(f"lexical.new-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(mode=0o700, parents=True)
    if chunks:
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index(tokenize([c.text for c in chunks]), show_progress=False)
        bm25.save(str(fresh), show_progress=False)
    with open(fresh / CHUNKS_NAME, "w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(json.dumps(chunk.to_json(), ensure_ascii=False) + "\n")
    speakers: dict[str, set[str]] = {}
    for chunk in chunks:
        for speaker in chunk.speakers:
            speakers.setdefault(speaker, set()).add(chunk.session)
    meta = {
        "digest": digest(c.id for c in chunks),
        "count": len(chunks),
        "tokenizer": TOKENIZER_VERSION,
        # who speaks in which sessions: a question that names a speaker is read without
        # parsing every chunk
        "speakers": {name: sorted(found) for name, found in speakers.items()},
    }
    (fresh / META_NAME).write_text(json.dumps(meta), encoding="utf-8")
    for file in fresh.iterdir():
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())
    if target.exists():
        doomed = target.with_name(f"lexical.deleting-{os.getpid()}")
        os.replace(target, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
    os.replace(fresh, target)


def stored_digest(ws: Workspace) -> str | None:
    try:
        return json.loads((lexical_dir(ws) / META_NAME).read_text(encoding="utf-8"))["digest"]
    except (OSError, ValueError, KeyError):
        return None


def stored_chunks(ws: Workspace) -> list[Chunk]:
    path = lexical_dir(ws) / CHUNKS_NAME
    try:
        with open(path, encoding="utf-8") as handle:
            return [Chunk.from_json(json.loads(line)) for line in handle if line.strip()]
    except (OSError, ValueError, TypeError):
        return []


class StoredChunks(Mapping[str, Chunk]):
    """The lexical index's chunks, by id and in stored order, each parsed from its JSON line
    on first use: a cold `ask` over 100,000 chunks reads a handful of them, not all."""

    def __init__(self, lines: list[str]):
        self._lines = lines
        self._ids = [_id_of(line) for line in lines]
        self._position = {chunk_id: n for n, chunk_id in enumerate(self._ids)}
        self._parsed: dict[int, Chunk] = {}

    def at(self, n: int) -> Chunk:
        chunk = self._parsed.get(n)
        if chunk is None:
            chunk = self._parsed[n] = Chunk.from_json(json.loads(self._lines[n]))
        return chunk

    def position(self, chunk_id: str) -> int | None:
        return self._position.get(chunk_id)

    def __getitem__(self, chunk_id: str) -> Chunk:
        return self.at(self._position[chunk_id])

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._position

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def _id_of(line: str) -> str:
    """A chunk's id from its JSON line without parsing the rest (the id is written first)."""
    if line.startswith('{"id": "'):
        end = line.find('"', 8)
        if end > 8 and "\\" not in line[8:end]:
            return line[8:end]
    return str(json.loads(line)["id"])


def _stored_lines(ws: Workspace) -> list[str]:
    with open(lexical_dir(ws) / CHUNKS_NAME, encoding="utf-8") as handle:
        return [line for line in handle.read().splitlines() if line.strip()]


def clean_leftovers(ws: Workspace) -> None:
    for leftover in ws.cache_dir.glob("lexical.*-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _first_word(name: str) -> str:
    return name.split()[0].casefold()


def _names_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """One regex for any of these names as whole words (3 characters or more, not a stop
    word); longest first."""
    kept = sorted(
        (n for n in names if len(n) >= 3 and n.casefold() not in _stopwords()),
        key=len,
        reverse=True,
    )
    body = "|".join(re.escape(n) for n in kept) or r"(?!x)x"
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


@dataclass
class LexicalIndex:
    by_id: StoredChunks  # every chunk, by id and in stored (reading) order
    bm25: Any
    stamp: int  # mtime of meta.json when loaded: a change means it was rebuilt
    _speakers: dict[str, set[str]] = field(default_factory=dict)  # speaker -> sessions
    _named: tuple[re.Pattern[str], re.Pattern[str]] | None = None
    _shares: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def load(cls, ws: Workspace) -> LexicalIndex | None:
        folder = lexical_dir(ws)
        try:
            stamp = (folder / META_NAME).stat().st_mtime_ns
            meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
            if meta.get("tokenizer", 1) != TOKENIZER_VERSION:
                from tacit.core.errors import IndexMismatch

                raise IndexMismatch(
                    "the lexical index was built by an older tokenizer",
                    hint="run `tacit index --rebuild` (the plain files are untouched)",
                )
            chunks = StoredChunks(_stored_lines(ws))
            bm25 = None
            if chunks:
                import bm25s

                bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or mid-swap: the caller goes on without it
        speakers = {name: set(found) for name, found in (meta.get("speakers") or {}).items()}
        if "speakers" not in meta:  # written before the meta held them: read every chunk
            for n in range(len(chunks)):
                for speaker in chunks.at(n).speakers:
                    speakers.setdefault(speaker, set()).add(chunks.at(n).session)
        return cls(by_id=chunks, bm25=bm25, stamp=stamp, _speakers=speakers)

    def following(self, chunk: Chunk) -> Chunk | None:
        """The passage after this one in its session's transcript (chunks are stored in
        reading order, session by session), or None."""
        n = self.by_id.position(chunk.id)
        after = self.by_id.at(n + 1) if n is not None and n + 1 < len(self.by_id) else None
        if after is None or after.session != chunk.session or after.source != chunk.source:
            return None
        return after

    def current(self, ws: Workspace) -> bool:
        try:
            return (lexical_dir(ws) / META_NAME).stat().st_mtime_ns == self.stamp
        except OSError:
            return False

    def search(
        self, query: str, n: int, allowed: Callable[[Chunk], bool]
    ) -> list[tuple[Chunk, float]]:
        """(chunk, BM25 score) for chunks that match a query word, best first."""
        return self.search_spread(query, n, allowed)[0]

    def search_spread(
        self, query: str, n: int, allowed: Callable[[Chunk], bool]
    ) -> tuple[list[tuple[Chunk, float]], tuple[float, float]]:
        """search(), and the mean and standard deviation of the score over every chunk (a
        chunk without the words scores 0): what fusion scales BM25 by."""
        import numpy as np

        if self.bm25 is None:
            return [], (0.0, 1.0)
        found_tokens = [t for t in tokens(query) if t in self.bm25.vocab_dict]
        if not found_tokens:
            return [], (0.0, 1.0)
        scores = np.asarray(self.bm25.get_scores(found_tokens), dtype=np.float32)
        spread = (float(scores.mean()), float(scores.std()) or 1.0)
        order = np.argsort(-scores, kind="stable")
        found: list[tuple[Chunk, float]] = []
        for index in order:
            score = float(scores[index])
            if score <= 0 or len(found) >= n:
                break
            chunk = self.by_id.at(int(index))
            if allowed(chunk):
                found.append((chunk, score))
        return found, spread

    # --- evidence beyond the score ------------------------------------------------------------

    def idf(self, token: str) -> float:
        """BM25's inverse document frequency; a word no passage holds weighs the most."""
        import math

        total = len(self.by_id)
        term = self.bm25.vocab_dict.get(token) if self.bm25 is not None else None
        pointers = self.bm25.scores["indptr"] if self.bm25 is not None else ()
        held = 0
        if term is not None and term + 1 < len(pointers):
            held = int(pointers[term + 1] - pointers[term])
        return math.log(1 + (total - held + 0.5) / (held + 0.5))

    def coverage_of(self, query: str) -> Callable[[Chunk], float | None]:
        """A function: chunk -> the share of the question's IDF weight it holds word for word
        (1.0: every rare word of the question is in it). None for a question of stop words."""
        if not tokens(query):
            return lambda chunk: None
        held = share_held(query, self.idf)
        return lambda chunk: held(chunk.text)

    def speakers_named(self, query: str) -> tuple[str, ...]:
        """Speakers of the KB the question names: by whole name ("what did Marketing..."), else
        by the first word of their name ("what did Maria say", "the Professor")."""
        if self._named is None:
            self._named = (
                _names_pattern(s for s in self._speakers),
                _names_pattern({_first_word(s) for s in self._speakers if " " in s.strip()}),
            )
        whole, first = self._named
        folded = {s.casefold(): s for s in self._speakers}
        found = [folded.get(m.group(0).casefold()) for m in whole.finditer(query)]
        if any(found):
            return tuple(dict.fromkeys(s for s in found if s))
        words = {m.group(0).casefold() for m in first.finditer(query)}
        return tuple(s for s in self._speakers if " " in s.strip() and _first_word(s) in words)

    def sessions_with_speakers(self, names: Iterable[str]) -> set[str]:
        return set().union(*(self._speakers.get(n, set()) for n in names))

    def speaker_share(self, chunk: Chunk, name: str) -> float:
        """The share of a chunk's words that this speaker says."""
        shares = self._shares.get(chunk.id)
        if shares is None:
            said: dict[str, int] = {}
            speakers = sorted(chunk.speakers, key=len, reverse=True)
            current = ""
            for line in chunk.text.splitlines():
                who = next((s for s in speakers if s and line.startswith(f"{s}:")), None)
                current = who if who is not None else current
                body = line[len(who) + 1 :] if who is not None else line
                said[current] = said.get(current, 0) + len(body.split())
            total = sum(said.values()) or 1
            shares = {s: n / total for s, n in said.items()}
            self._shares[chunk.id] = shares
        return shares.get(name, 0.0)
