"""The transcript model: sessions/<id>/transcript.json, the input of every later stage."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.core.errors import NotFound, TranscriptFormatError
from tacit.core.fileio import atomic_write

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace

TRANSCRIPT_NAME = "transcript.json"
# 2: `schema` and `history` (every correction, rename and merge, with what was there before),
# words may be `approximate` (re-estimated after an edit), segments may carry `english` (the
# English rendering of a non-English recording). A file without `schema` is 1 and reads as is.
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0
    approximate: bool = False  # its time was re-estimated after an edit, not heard


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    speaker: str
    text: str
    words: tuple[Word, ...] = ()
    english: str = ""  # the English rendering of a non-English segment, aligned to its times


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    language: str = "en"
    model: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    media_sha256: str = ""
    media_file: str = ""  # relative to the session folder
    duration: float = 0.0
    source: str = "transcribed"  # transcribed | imported:<format>
    offset: float = 0.0  # seconds from the session's start to the recording's start
    schema: int = SCHEMA_VERSION
    history: tuple[dict[str, Any], ...] = ()  # changes made by people, oldest first

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(s.speaker for s in self.segments))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["segments"] = [_segment_json(s) for s in self.segments]
        data["history"] = list(self.history)
        return data

    def rename_speakers(self, mapping: dict[str, str]) -> Transcript:
        segments = tuple(
            replace(s, speaker=mapping.get(s.speaker, s.speaker)) for s in self.segments
        )
        return replace(self, segments=segments)


_HISTORY_TEXT = ("text", "english", "what", "wrong", "right", "not_reapplied")
_HISTORY_NAMES = ("speaker", "from", "to")


def masked_history(
    history: tuple[dict[str, Any], ...], mask: Callable[[str], str], speakers: bool = False
) -> tuple[dict[str, Any], ...]:
    """The history with what people said masked (redaction): the segments an undo would bring
    back are masked too, and lose their word times, which would spell out what the mask hides.
    Speaker names too with `speakers` (as exports mask them; redacted originals keep them)."""
    keys = _HISTORY_TEXT + (_HISTORY_NAMES if speakers else ())

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: [] if k == "words" else walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        return mask(value) if isinstance(value, str) and key in keys else value

    return tuple(walk(item) for item in history)


def _segment_json(segment: Segment) -> dict[str, Any]:
    """A segment as stored: the optional fields only where they say something."""
    data = asdict(segment)
    data["words"] = [
        {k: v for k, v in asdict(w).items() if k != "approximate" or v} for w in segment.words
    ]
    if not segment.english:
        del data["english"]
    return data


@functools.cache
def _model():
    """transcript.json as a pydantic model: tacit's own file, so unknown keys are errors."""
    from typing import Any as AnyValue

    from pydantic import ConfigDict, Field

    from tacit.core.validation import Name, Offset, Probability, Record, RelativePath, Seconds, Text

    class WordRecord(Record):
        start: Seconds
        end: Seconds
        word: Text
        probability: Probability = 1.0
        approximate: bool = False

    class SegmentRecord(Record):
        start: Seconds
        end: Seconds
        speaker: Name = "SPEAKER_1"
        text: Text
        words: list[WordRecord] = Field(default_factory=list, max_length=100_000)
        english: Text = ""

    class TranscriptRecord(Record):
        model_config = ConfigDict(extra="allow")  # fields added later are kept, not refused

        segments: list[SegmentRecord] = Field(max_length=10_000_000)
        language: Text = "en"
        model: Text = ""
        settings: dict[str, AnyValue] = Field(default_factory=dict)
        media_sha256: Text = ""
        media_file: RelativePath = ""
        duration: Seconds = 0.0
        source: Text = "transcribed"
        offset: Offset = 0.0
        schema_version: int = Field(1, alias="schema", ge=1)
        history: list[dict[str, AnyValue]] = Field(default_factory=list, max_length=1_000_000)

    return TranscriptRecord


def from_json(data: Any, source: str = "transcript.json") -> Transcript:
    from tacit.core import validation

    def where(loc) -> str:
        if len(loc) >= 2 and loc[0] == "segments" and isinstance(loc[1], int):
            return f"segment {loc[1] + 1}: {validation.dotted(loc[2:])}".rstrip(": ")
        return validation.dotted(loc)

    record = validation.check(_model(), data, source, TranscriptFormatError, where=where)
    segments = []
    for n, s in enumerate(record.segments, start=1):
        if s.end < s.start:
            raise TranscriptFormatError(f"{source}: segment {n}: ends before it starts")
        words = tuple(Word(w.start, w.end, w.word, w.probability, w.approximate) for w in s.words)
        speaker = s.speaker or "SPEAKER_1"
        segments.append(Segment(s.start, s.end, speaker, s.text.strip(), words, s.english))
    if record.schema_version > SCHEMA_VERSION:
        raise TranscriptFormatError(
            f"{source}: schema {record.schema_version} is newer than this tacit reads "
            f"({SCHEMA_VERSION}); upgrade tacit"
        )
    known = {f.name for f in dataclasses.fields(Transcript)} - {"segments", "schema", "history"}
    fields = {k: v for k, v in record.model_dump().items() if k in known}
    return Transcript(segments=tuple(segments), history=tuple(record.history), **fields)


def load(path: Path) -> Transcript:
    from tacit.core import validation

    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TranscriptFormatError(f"{path}: unreadable transcript: not UTF-8 text") from None
    data = validation.load_json(text, str(path), TranscriptFormatError, finite=False)
    return from_json(data, str(path))


def path(ws: Workspace, session_id: str) -> Path:
    """sessions/<id>/transcript.json: the one place that spells where a transcript lives."""
    return ws.session_dir(session_id) / TRANSCRIPT_NAME


def of_session(ws: Workspace, session_id: str) -> Transcript:
    """A session's transcript; NotFound, with what to run, when it has none yet."""
    from tacit.records import sessions

    sessions.get(ws, session_id)
    found = path(ws, session_id)
    if not found.is_file():
        raise NotFound(
            f"session {session_id} has no transcript yet; "
            f"make one with `tacit transcribe {session_id}` or `tacit import FILE`"
        )
    return load(found)


def save(path: Path, transcript: Transcript) -> None:
    atomic_write(Path(path), json.dumps(transcript.to_json(), ensure_ascii=False, indent=1))
