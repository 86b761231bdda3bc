"""The transcript model: sessions/<id>/transcript.json, the input of every later stage."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.core.errors import NotFound, TranscriptFormatError
from tacit.core.fileio import atomic_write

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace

TRANSCRIPT_NAME = "transcript.json"


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    speaker: str
    text: str
    words: tuple[Word, ...] = ()


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

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(s.speaker for s in self.segments))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["segments"] = [
            {**asdict(s), "words": [asdict(w) for w in s.words]} for s in self.segments
        ]
        return data

    def rename_speakers(self, mapping: dict[str, str]) -> Transcript:
        segments = tuple(
            replace(s, speaker=mapping.get(s.speaker, s.speaker)) for s in self.segments
        )
        return replace(self, segments=segments)


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

    class SegmentRecord(Record):
        start: Seconds
        end: Seconds
        speaker: Name = "SPEAKER_1"
        text: Text
        words: list[WordRecord] = Field(default_factory=list, max_length=100_000)

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
        words = tuple(Word(w.start, w.end, w.word, w.probability) for w in s.words)
        segments.append(Segment(s.start, s.end, s.speaker or "SPEAKER_1", s.text.strip(), words))
    known = {f.name for f in dataclasses.fields(Transcript)} - {"segments"}
    fields = {k: v for k, v in record.model_dump().items() if k in known}
    return Transcript(segments=tuple(segments), **fields)


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
