"""Sessions become chunks: transcript passages along speaker turns, Q+A answers, observed steps.

Times. A chunk's start/end are seconds of its recording (``media``), because a citation must
seek the media file to the second (`tacit play`). Transcript times already are media times.
Answer.at and Step.at are session times: they become media times by subtracting the
recording's offset (Media.offset, where the recording starts in the session). A chunk with no
recording (``media == ""``) keeps session time, and None where no time was stamped.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from tacit.index import passages

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace
    from tacit.records.sessions import Answer, Media, Session
    from tacit.records.transcript import Transcript

# Bump whenever the chunks made from the same files change: the manifest then asks for --rebuild.
CHUNKER_VERSION = 3  # 2: sentence marks; follow-up notes are not chunked; 3: interviewer

# The runner stamps a question when it is shown, about when it is spoken: allow a little slack.
QUESTION_SLACK_S = 1.0
# A follow-up's text is the interviewer's note of what to ask again: an open question for the
# agenda, never the expert's words.
ANSWERED = ("answered",)
# between two sentences of typed text (an answer typed in the runner or an answers file)
_TYPED_BREAK = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    id: str  # "<session>:<hash of every field below>": place and content
    session: str
    expert: str  # slug
    kind: str  # interview | observation
    source: str  # transcript | answer | step
    text: str  # already redacted
    start: float | None  # media seconds when media is set, else session seconds; None: unknown
    end: float | None
    speakers: tuple[str, ...]
    section: str = ""
    question: str = ""
    guide: str = ""
    restricted: bool = False
    media: str = ""  # recording relative to the KB root, e.g. sessions/<id>/media/x.m4a
    content_hash: str = ""  # sha256 of text: the embedding cache key
    # each sentence of text: (character offset, start, end) in the chunk's time base; the
    # answer cites the moment of the sentence it quotes, not the chunk's first second
    marks: tuple[tuple[int, float | None, float | None], ...] = ()
    interviewer: str = ""  # the session's interviewer (a speaker name): not the expert's words
    # a non-English session: `text` is its English rendering (what is embedded and searched,
    # capture/languages); these are its own words, (start, end, "Speaker: text") a segment
    language: str = ""
    originals: tuple[tuple[float, float, str], ...] = ()

    def to_json(self) -> dict:
        data = asdict(self)
        data["speakers"] = list(self.speakers)
        data["marks"] = [list(m) for m in self.marks]
        data["originals"] = [list(o) for o in self.originals]
        for key in ("language", "originals"):  # English chunks: ids and files as before
            if not data[key]:
                del data[key]
        return data

    @classmethod
    def from_json(cls, data: dict) -> Chunk:
        marks = tuple(tuple(m) for m in data.get("marks") or ())
        originals = tuple(tuple(o) for o in data.get("originals") or ())
        return cls(**{**data, "speakers": tuple(data.get("speakers") or ()), "marks": marks,
                      "originals": originals})  # fmt: skip


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _finish(chunk: Chunk, seen: set[str]) -> Chunk:
    """Give a chunk its content hash and an id that is unique within its session."""
    chunk = replace(chunk, content_hash=content_hash(chunk.text), id="")
    payload = json.dumps(chunk.to_json(), sort_keys=True, ensure_ascii=False)
    for n in range(1000):
        salt = f"#{n}" if n else ""
        digest = hashlib.sha256((payload + salt).encode("utf-8")).hexdigest()[:24]
        chunk_id = f"{chunk.session}:{digest}"
        if chunk_id not in seen:
            seen.add(chunk_id)
            return replace(chunk, id=chunk_id)
    raise RuntimeError("chunk id space exhausted")  # pragma: no cover  (1000 identical chunks)


# --- sessions --------------------------------------------------------------------------------


def _primary_media(session: Session, transcript: Transcript | None) -> Media | None:
    """The recording the transcript was made from, else the session's only/first recording."""
    if transcript is not None and transcript.media_file:
        for media in session.media:
            if media.file == transcript.media_file:
                return media
    return session.media[0] if session.media else None


def _media_time(at: float | None, media: Media | None, media_path: str) -> tuple[float | None, str]:
    """Session seconds -> (media seconds, media path); before the recording: session time."""
    if at is None:
        return None, ""
    if media is not None and media_path and at - media.offset >= 0:
        return round(at - media.offset, 3), media_path
    return at, ""


def _questions_by_media_time(session: Session, media: Media | None) -> list[tuple[float, Answer]]:
    offset = media.offset if media is not None else 0.0
    timed = [(a.at - offset, a) for a in session.answers if a.at is not None]
    return sorted(timed, key=lambda pair: pair[0])


def _asked_before(timed: list[tuple[float, Answer]], start: float) -> Answer | None:
    latest = None
    for at, answer in timed:
        if at <= start + QUESTION_SLACK_S:
            latest = answer
        else:
            break
    return latest


def _sentence_offsets(text: str) -> list[int]:
    """Where each sentence of typed text starts."""
    return [0] + [m.end() for m in _TYPED_BREAK.finditer(text) if m.end() < len(text)]


def _split_words(text: str, chunk_words: int) -> list[str]:
    """Cut typed text into pieces of about chunk_words, between sentences only."""
    segment_like = [passages.Sentence("", s, 0.0, 0.0) for s in _TYPED_BREAK.split(text.strip())]
    groups = passages.passages([s for s in segment_like if s.text], chunk_words)
    return [" ".join(s.text for s in group) for group in groups] or [text.strip()]


class _Context:
    """What every chunk of one session shares: identity, redaction, recording."""

    def __init__(self, ws: Workspace, session: Session, transcript: Transcript | None):
        from tacit.records import redaction

        self.redact = redaction.redactor(ws.config)
        self.session = session
        self.media = _primary_media(session, transcript)
        file = transcript.media_file if transcript and transcript.media_file else ""
        file = file or (self.media.file if self.media else "")
        self.media_path = f"sessions/{session.id}/{file}" if file else ""
        self.expert_name = _expert_name(ws, session.expert)
        self.seen: set[str] = set()

    def chunk(self, **fields) -> Chunk:
        session = self.session
        redact = self.redact
        fields["text"], fields["marks"] = _redacted(redact, fields["text"], fields.get("marks", ()))
        fields["question"] = redact(fields.get("question", ""))
        fields["section"] = redact(fields.get("section", ""))
        fields["speakers"] = tuple(redact(s) for s in fields["speakers"])
        fields["originals"] = tuple((a, b, redact(t)) for a, b, t in fields.get("originals", ()))
        fields["interviewer"] = redact(session.interviewer) if session.interviewer else ""
        base = Chunk(
            id="",
            session=session.id,
            expert=session.expert,
            kind=session.kind,
            guide=session.guide,
            restricted=session.restricted,
            **fields,
        )
        return _finish(base, self.seen)


def _redacted(redact, text: str, marks: tuple) -> tuple[str, tuple]:
    """Redact a chunk's text piece by piece between its sentence marks, so that each mark
    still points at the start of its sentence."""
    if not marks:
        return redact(text), ()
    cuts = [m[0] for m in marks]
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    done = [redact(p) if p.strip() else p for p in pieces]
    offsets, at = [], len(done[0])
    for piece in done[1:]:
        offsets.append(at)
        at += len(piece)
    moved = tuple((o, *m[1:]) for o, m in zip(offsets, marks, strict=True))
    return "".join(done), moved


def _expert_name(ws: Workspace, slug: str) -> str:
    from tacit.core.errors import TacitError
    from tacit.records import experts

    try:
        return experts.get(ws, slug).name
    except TacitError:
        return slug


def _english(transcript: Transcript) -> tuple[list, str]:
    """The segments the index reads: the English rendering of a non-English transcript (the
    embedding model knows English only), spread over each segment's time; and the language
    of the words kept beside it ("" for an English transcript)."""
    if not any(s.english for s in transcript.segments):
        return list(transcript.segments), ""
    rendered = [replace(s, text=s.english, words=()) for s in transcript.segments if s.english]
    return rendered, transcript.language


def _originals(transcript: Transcript, start: float, end: float) -> tuple:
    return tuple(
        (s.start, s.end, f"{s.speaker}: {s.text}" if s.speaker else s.text)
        for s in transcript.segments
        if s.start < end and s.end > start
    )


def _transcript_chunks(ctx: _Context, transcript: Transcript, chunk_words: int) -> list[Chunk]:
    timed = _questions_by_media_time(ctx.session, ctx.media)
    chunks = []
    segments, language = _english(transcript)
    found = passages.sentences(segments, chunk_words)
    for passage in passages.passages(found, chunk_words):
        start, end = round(passage[0].start, 3), round(passage[-1].end, 3)
        asked = _asked_before(timed, start)
        text, marks = passages.marked_text(passage)
        chunks.append(
            ctx.chunk(
                source="transcript",
                text=text,
                marks=marks,
                start=start,
                end=end,
                speakers=tuple(dict.fromkeys(s.speaker for s in passage)),
                section=asked.section if asked else "",
                question=asked.question if asked else "",
                media=ctx.media_path,
                language=language,
                originals=_originals(transcript, start, end) if language else (),
            )
        )
    return chunks


def _answer_chunks(ctx: _Context, chunk_words: int) -> list[Chunk]:
    stamps = sorted(a.at for a in ctx.session.answers if a.at is not None)
    chunks = []
    for answer in ctx.session.answers:
        if answer.status not in ANSWERED or not answer.text.strip():
            continue
        start, media = _media_time(answer.at, ctx.media, ctx.media_path)
        later = [t for t in stamps if answer.at is not None and t > answer.at]
        end = _media_time(later[0], ctx.media, media)[0] if later and start is not None else None
        if not media:  # typed with no recording running: a clock time would read like one
            start = end = None
        for piece in _split_words(answer.text, chunk_words):
            text = f"Q: {answer.question}\nA: {piece}"
            head = len(text) - len(piece)
            marks = tuple((head + o, start, end) for o in _sentence_offsets(piece))
            chunks.append(
                ctx.chunk(
                    source="answer",
                    text=text,
                    marks=marks,
                    start=start,
                    end=end,
                    speakers=(ctx.expert_name,),
                    section=answer.section,
                    question=answer.question,
                    media=media,
                )
            )
    return chunks


def _step_chunks(ctx: _Context) -> list[Chunk]:
    steps = sorted(ctx.session.steps, key=lambda s: (s.at, s.n))
    chunks = []
    for i, step in enumerate(steps):
        start, media = _media_time(step.at, ctx.media, ctx.media_path)
        end = _media_time(steps[i + 1].at, ctx.media, media)[0] if i + 1 < len(steps) else None
        lines = [f"Step {step.n}: {step.action}"]
        if step.key_point:
            lines.append(f"Key point: {step.key_point}")
        if step.reason:
            lines.append(f"Reason: {step.reason}")
        chunks.append(
            ctx.chunk(
                source="step",
                text="\n".join(lines),
                start=start,
                end=end,
                speakers=(ctx.expert_name,),
                section=ctx.session.task,
                media=media,
            )
        )
    return chunks


def chunk_session(
    ws: Workspace, session: Session, transcript: Transcript | None, chunk_words: int
) -> list[Chunk]:
    """Every chunk of one session: transcript passages, answered questions, observed steps."""
    chunk_words = max(int(chunk_words), 10)
    ctx = _Context(ws, session, transcript)
    chunks: list[Chunk] = []
    if transcript is not None:
        chunks += _transcript_chunks(ctx, transcript, chunk_words)
    chunks += _answer_chunks(ctx, chunk_words)
    chunks += _step_chunks(ctx)
    return chunks


def load_transcript(ws: Workspace, session_id: str) -> Transcript | None:
    from tacit.records import transcript as transcript_module

    path = transcript_module.path(ws, session_id)
    return transcript_module.load(path) if path.is_file() else None


def chunk_kb(ws: Workspace) -> list[Chunk]:
    """Every chunk of the knowledge base; sessions whose consent was withdrawn or refused are
    left out (their records stay)."""
    from tacit.core.fileio import refuse_links
    from tacit.records import sessions

    chunk_words = ws.config.index["chunk_words"]
    chunks: list[Chunk] = []
    for session in sessions.list_all(ws):
        if session.withheld:  # kept, never indexed
            continue
        # a session folder that is a link would bring text from outside the KB into the index
        refuse_links(ws.session_dir(session.id) / "session.md", ws.root)
        chunks += chunk_session(ws, session, load_transcript(ws, session.id), chunk_words)
    return chunks
