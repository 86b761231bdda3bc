"""Experts: experts/<slug>.md, YAML front matter plus free Markdown notes."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tacit.core.errors import FrontMatterError, NotFound, TacitError
from tacit.core.fileio import read_front_matter, write_front_matter
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


def _score(value: Any, key: str, path: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise FrontMatterError(f"{path}: {key} must be a whole number from 1 to 5, not {value!r}")
    return value


def _date(value: Any, path: Path) -> dt.date | None:
    from tacit.core import validation

    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            raise FrontMatterError(
                f"{path}: leaving_on must be a date YYYY-MM-DD, not {value!r}"
            ) from None
    try:
        return validation.day(value, "leaving_on")
    except TacitError as exc:
        raise FrontMatterError(f"{path}: {exc.message}") from None


def _text(value: Any, key: str, path: Path) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        raise FrontMatterError(f"{path}: {key} must be text, not a list or mapping")
    return " ".join(str(value).split()) if key == "name" else str(value)


def _strings(value: Any, key: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise FrontMatterError(f"{path}: {key} must be a list")
    if any(isinstance(item, list | dict) for item in value):
        raise FrontMatterError(f"{path}: {key} must be a list of text items")
    return tuple(str(item) for item in value)


def load_file(path: Path) -> Expert:
    meta, body = read_front_matter(path)
    if not meta.get("name"):
        raise FrontMatterError(f"{path}: front matter has no name")
    return Expert(
        slug=path.stem,
        name=_text(meta["name"], "name", path),
        role=_text(meta.get("role"), "role", path),
        team=_text(meta.get("team"), "team", path),
        leaving_on=_date(meta.get("leaving_on"), path),
        attrition=_score(meta.get("attrition"), "attrition", path),
        position_risk=_score(meta.get("position_risk", 3), "position_risk", path) or 3,
        topics=_strings(meta.get("topics"), "topics", path),
        contacts=_strings(meta.get("contacts"), "contacts", path),
        consent=_text(meta.get("consent"), "consent", path) or "not recorded",
        notes=body,
        voice=_voice(meta.get("voice"), path),
        vocabulary=_strings(meta.get("vocabulary"), "vocabulary", path),
    )


VOICE_CONSENT = ("given", "refused")


def _voice(value: Any, path: Path) -> dict[str, str]:
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict) or value.get("status") not in VOICE_CONSENT:
        raise FrontMatterError(
            f"{path}: voice must be a mapping with status given or refused (and by, when)"
        )
    return {k: _text(value.get(k), f"voice.{k}", path) for k in ("status", "by", "when")}


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
