"""The transcript model: sessions/<id>/transcript.json, the input of every later stage."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tacit.errors import TranscriptFormatError
from tacit.fileio import atomic_write

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


def from_json(data: Any, source: str = "transcript.json") -> Transcript:
    try:
        segments = tuple(
            Segment(
                start=float(s["start"]),
                end=float(s["end"]),
                speaker=str(s.get("speaker") or "SPEAKER_1"),
                text=str(s["text"]).strip(),
                words=tuple(Word(**w) for w in s.get("words") or ()),
            )
            for s in data["segments"]
        )
        fields = {
            k: data[k]
            for k in (
                "language",
                "model",
                "settings",
                "media_sha256",
                "media_file",
                "duration",
                "source",
                "offset",
            )
            if k in data
        }
        return Transcript(segments=segments, **fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise TranscriptFormatError(f"{source}: not a tacit transcript: {exc}") from None


def load(path: Path) -> Transcript:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TranscriptFormatError(f"{path}: unreadable transcript: {exc}") from None
    return from_json(data, str(path))


def save(path: Path, transcript: Transcript) -> None:
    atomic_write(Path(path), json.dumps(transcript.to_json(), ensure_ascii=False, indent=1))
