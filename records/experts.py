"""Experts: experts/<slug>.md, YAML front matter plus free Markdown notes."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tacit.core.errors import FrontMatterError, NotFound, TacitError
from tacit.core.fileio import front_matter_of, write_front_matter
from tacit.core.workspace import Workspace, safe_name, slugify


@dataclass(frozen=True)
class Expert:
    slug: str
    name: str
    role: str = ""
    team: str = ""
    leaving_on: dt.date | None = None
    attrition: int | None = None  # 1-5 given by hand; derived from leaving_on when that is set
    position_risk: int = 3  # 1-5: how critical and unique the knowledge is
    topics: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()  # people they send others to: "Name: what for"
    consent: str = "not recorded"
    notes: str = ""
    # consent to a voice profile (biometric data): {"status": given|refused, "by", "when"}
    voice: dict[str, str] = field(default_factory=dict)
    # their own terms (people, places, part numbers): given to Whisper with the KB's vocabulary
    # when their sessions are transcribed
    vocabulary: tuple[str, ...] = ()

    @property
    def voice_consent(self) -> str:
        return self.voice.get("status", "not recorded")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["leaving_on"] = self.leaving_on.isoformat() if self.leaving_on else None
        data["topics"] = list(self.topics)
        data["contacts"] = list(self.contacts)
        if not self.voice:
            del data["voice"]  # records without it read as before
        data["vocabulary"] = list(self.vocabulary)
        if not self.vocabulary:
            del data["vocabulary"]
        return data


def expert_path(ws: Workspace, slug: str) -> Path:
    return ws.experts_dir / f"{safe_name(slug, 'expert slug')}.md"


VOICE_CONSENT = ("given", "refused")


def _listed(value: Any) -> Any:
    """topics, contacts, vocabulary: one text or a list of texts (a list of lists is refused)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and any(isinstance(item, list | dict) for item in value):
        raise ValueError("must be a list of text items")
    return value


def _leaving_on(value: Any) -> Any:
    from tacit.core import validation

    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValueError(f"must be a date YYYY-MM-DD, not {value!r} ({exc})") from None
    try:
        return validation.day(value, "leaving_on")
    except TacitError as exc:
        raise ValueError(exc.message.removeprefix("leaving_on ")) from None


@functools.cache
def _model():
    """experts/<slug>.md's front matter as a pydantic record. Keys people add by hand are kept
    out of the way (ignored), not refused: this file is theirs as much as tacit's."""
    from typing import Annotated, Literal

    from pydantic import BeforeValidator, ConfigDict, Field, field_validator

    from tacit.core.validation import Name, Record, Text

    Texts = Annotated[list[Text], BeforeValidator(_listed), Field(max_length=10_000)]
    Score = Annotated[int, Field(ge=1, le=5)]

    class Voice(Record):
        status: Literal[*VOICE_CONSENT]  # type: ignore[valid-type]
        by: Text = ""
        when: Text = ""

    class ExpertRecord(Record):
        model_config = ConfigDict(extra="ignore")

        name: Name
        role: Text = ""
        team: Text = ""
        leaving_on: Annotated[dt.date | None, BeforeValidator(_leaving_on)] = None
        attrition: Score | None = None
        position_risk: Score | None = 3
        topics: Texts = []
        contacts: Texts = []
        consent: Text = "not recorded"
        voice: Voice | None = None
        vocabulary: Texts = []

        @field_validator("name")
        @classmethod
        def _named(cls, value: str) -> str:
            if not value.strip():
                raise ValueError("must not be empty")
            return value

        @field_validator("voice", mode="before")
        @classmethod
        def _no_voice(cls, value: Any) -> Any:
            return None if value in ("", {}) else value

    return ExpertRecord


def load_file(path: Path) -> Expert:
    from tacit.core import validation

    found = front_matter_of(path)
    if not found.meta.get("name"):
        raise FrontMatterError(f"{path}: front matter has no name")
    record = validation.check(_model(), found.meta, path, FrontMatterError, line=found.line_of)
    return Expert(
        slug=path.stem,
        name=record.name,
        role=record.role,
        team=record.team,
        leaving_on=record.leaving_on,
        attrition=record.attrition,
        position_risk=record.position_risk or 3,
        topics=tuple(record.topics),
        contacts=tuple(record.contacts),
        consent=record.consent or "not recorded",
        notes=found.body,
        voice=record.voice.model_dump() if record.voice else {},
        vocabulary=tuple(record.vocabulary),
    )


def set_voice_consent(ws: Workspace, slug: str, status: str, by: str | None) -> Expert:
    """Record consent to a voice profile, with by whom and when; refusing deletes one."""
    if status not in VOICE_CONSENT:
        raise TacitError(f"--voice-consent must be given or refused, not {status!r}")
    expert = get(ws, slug)
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    voice = {"status": status, "by": " ".join((by or expert.name).split()), "when": when}
    updated = replace(expert, voice=voice)
    save(ws, updated)
    return updated


def save(ws: Workspace, expert: Expert) -> Path:
    meta = expert.to_json()
    meta.pop("slug")
    notes = meta.pop("notes")
    path = expert_path(ws, expert.slug)
    write_front_matter(path, meta, notes or f"# {expert.name}\n\nNotes about {expert.name}.")
    return path


def get(ws: Workspace, slug: str) -> Expert:
    path = expert_path(ws, slug)
    if not path.is_file():
        raise NotFound(f"no expert {slug!r}; see `tacit expert list`")
    return load_file(path)


def list_all(ws: Workspace) -> list[Expert]:
    if not ws.experts_dir.is_dir():
        return []
    return [load_file(path) for path in sorted(ws.experts_dir.glob("*.md"))]


def add(ws: Workspace, name: str, **fields: Any) -> Expert:
    name = " ".join(name.split())
    slug = slugify(name)
    if not slug:
        raise TacitError(f"cannot make a slug from the name {name!r}")
    if expert_path(ws, slug).exists():
        raise TacitError(
            f"expert {slug!r} already exists; change it with `tacit expert edit {slug}`"
        )
    expert = Expert(slug=slug, name=name, **_clean(fields))
    save(ws, expert)
    return expert


def edit(ws: Workspace, slug: str, **fields: Any) -> Expert:
    expert = replace(get(ws, slug), **_clean(fields))
    save(ws, expert)
    return expert


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = {key: value for key, value in fields.items() if value is not None}
    for key in ("topics", "contacts", "vocabulary"):
        if key in cleaned:
            cleaned[key] = tuple(cleaned[key])
    for key in ("attrition", "position_risk"):
        if key in cleaned and not 1 <= cleaned[key] <= 5:
            raise TacitError(f"{key.replace('_', '-')} must be from 1 to 5")
    if "leaving_on" in cleaned:
        from tacit.core import validation

        validation.day(cleaned["leaving_on"], "--leaving-on")
    return cleaned
