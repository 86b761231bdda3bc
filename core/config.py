"""tacit.toml: pydantic models hold every setting (type, range, default, what it is for); the
defaults and a new file's template are made from them, and errors name the key and the line."""

from __future__ import annotations

import copy
import functools
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tacit.core.errors import ConfigError

CONFIG_NAME = "tacit.toml"

HEADER = "# tacit knowledge base settings. Every key is optional; the defaults are shown."
COMMENT_AT = 21  # the column where a setting's comment starts in the written tacit.toml


def defaults() -> dict[str, Any]:
    """Every setting at its default, from the models below (the one place they are written)."""
    return copy.deepcopy(_defaults())


@functools.cache
def _defaults() -> dict[str, Any]:
    return _settings_models()().model_dump()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)  # strings, numbers and lists read back the same


def template(name: str) -> str:
    """A new tacit.toml: every section and key with its default and what it is for."""
    settings, values = _settings_models(), _defaults()
    lines = [HEADER, f"name = {_toml_value(name)}"]
    for section, field in settings.model_fields.items():
        if section == "name":
            continue
        lines += ["", f"[{section}]"]
        for key, info in field.annotation.model_fields.items():
            setting = f"{key} = {_toml_value(values[section][key])}"
            note = f"# {info.description}" if info.description else ""
            lines.append(f"{setting:<{COMMENT_AT - 3}}  {note}" if note else setting)
    return "\n".join(lines) + "\n"


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
    data = _merge(_defaults(), given, path, text)
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
    """tacit.toml as pydantic models: each setting's type, range, default and what it is for.
    The defaults and the template of a new tacit.toml are made from these."""
    from typing import Annotated, Literal

    from pydantic import Field, StringConstraints

    from tacit.core.validation import Record

    Text = Annotated[str, StringConstraints(max_length=10_000)]
    Term = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"\S")]
    Score = Annotated[int, Field(ge=1, le=5)]
    Threshold = Annotated[float, Field(ge=0, le=1)]

    def listed(limit: int, why: str) -> Any:
        return Field(default_factory=list, max_length=limit, description=why)

    class Models(Record):
        speech: Text = Field(
            "", description='Whisper: tiny.en, base (models install), a folder; "" = tiny.en'
        )
        embedding: Text = Field("", description='a sentence-transformers folder; "" = MiniLM')
        device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="cpu or cuda")
        compute_type: Text = "int8"
        threads: Annotated[int, Field(ge=0, le=256)] = Field(0, description="0 = all cores")
        language: Text = Field("auto", description="en, de, ...; auto: detected (multilingual)")
        vocabulary: list[Term] = listed(1000, "part names, acronyms, people: help Whisper")

    class Index(Record):
        chroma_url: Text = Field("", description='"http://127.0.0.1:8000": a shared server')
        chunk_words: Annotated[int, Field(ge=10, le=2000)] = 90
        relevance_threshold: Threshold = Field(
            0.0, description="best cosine below which a question is not captured; 0: calibrated"
        )
        lexical_threshold: Threshold = Field(
            0.0, description="share of a question's rare words a passage holds; 0: calibrated"
        )

    class Recording(Record):
        input_format: Text = Field("pulse", description="ffmpeg -f for --record (alsa, lavfi...)")
        input_device: Text = Field("default", description="ffmpeg -i")

    class Redaction(Record):
        terms: list[Term] = listed(100_000, "names and words masked in all that is derived")
        patterns: list[Term] = listed(10_000, "regular expressions, masked the same way")
        emails: bool = True
        phones: bool = True
        redact_originals: bool = Field(False, description="`tacit redact --apply` may rewrite")

    class Team(Record):
        interviewer: Annotated[str, StringConstraints(max_length=48)] = Field(
            "", description='who asks when a session names nobody, e.g. "Priya Shah"'
        )

    class Risk(Record):
        attrition_days: Annotated[
            list[Annotated[int, Field(ge=0, le=36_500)]], Field(min_length=3, max_length=3)
        ] = Field(
            default_factory=lambda: [90, 180, 365],
            description="leaving within: attrition 5, 4, 3",
        )
        attrition_later: Score = Field(2, description="leaving later than that")
        attrition_default: Score = Field(1, description="no leaving date")
        high: Annotated[int, Field(ge=1, le=25)] = 15
        medium: Annotated[int, Field(ge=1, le=25)] = 8

    class Packs(Record):
        stalled_days: Annotated[int, Field(ge=1, le=3650)] = Field(
            21, description="no checkpoint review for this long: `pack list` says stalled"
        )

    class Settings(Record):
        name: Text = "knowledge base"
        models: Models = Field(default_factory=Models)
        index: Index = Field(default_factory=Index)
        recording: Recording = Field(default_factory=Recording)
        redaction: Redaction = Field(default_factory=Redaction)
        team: Team = Field(default_factory=Team)
        risk: Risk = Field(default_factory=Risk)
        packs: Packs = Field(default_factory=Packs)

    return Settings


def default_config() -> Config:
    return Config(data=defaults())
