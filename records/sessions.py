"""Sessions: sessions/<id>/session.md. Front matter is the record; the body is its readable view."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tacit.core.errors import FrontMatterError, NotFound, TacitError
from tacit.core.fileio import FrontMatter, ensure_dir, front_matter_of, write_front_matter
from tacit.core.fileio import sha256_of as sha256_of  # re-exported: media hashes go through here
from tacit.core.workspace import Workspace, safe_name, slugify

KINDS = ("interview", "observation")
NOT_RECORDED = {"status": "not recorded"}
WITHHELD = ("withdrawn", "refused")  # consent statuses that keep a session out of use


@dataclass(frozen=True)
class Media:
    file: str  # relative to the session folder, e.g. media/interview.m4a
    sha256: str
    offset: float = 0.0  # seconds from the session's start to the recording's start
    offset_source: str = "default"  # given | creation_time | session | default


@dataclass(frozen=True)
class Answer:
    qid: str
    section: str
    question: str
    text: str = ""
    status: str = "pending"  # pending | answered | skipped | follow-up
    at: float | None = None  # seconds from the session's start when the question was asked


@dataclass(frozen=True)
class Step:
    n: int
    at: float  # seconds from the session's start
    action: str
    key_point: str = ""
    reason: str = ""
    practise: bool = False


@dataclass(frozen=True)
class Session:
    id: str
    expert: str
    kind: str = "interview"
    title: str = ""
    guide: str = ""
    task: str = ""
    started: str = ""
    status: str = "open"  # open | paused | done
    consent: dict[str, Any] = field(default_factory=lambda: dict(NOT_RECORDED))
    restricted: bool = False
    media: tuple[Media, ...] = ()
    answers: tuple[Answer, ...] = ()
    steps: tuple[Step, ...] = ()
    notes: str = ""
    steps_done: bool = False  # observations: the step log was closed with `done`
    interviewer: str = ""  # the speaker who asks: kept out of the expert's evidence

    @property
    def consent_status(self) -> str:
        return str(self.consent.get("status", "not recorded"))

    @property
    def withheld(self) -> bool:
        """Consent refused or withdrawn: the record is kept, but never indexed, never in a pack
        and never counted as captured."""
        return self.consent_status in WITHHELD

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["media"] = [asdict(m) for m in self.media]
        data["answers"] = [asdict(a) for a in self.answers]
        data["steps"] = [asdict(s) for s in self.steps]
        if not self.interviewer:
            del data["interviewer"]  # sessions without one read as before
        return data


def session_path(ws: Workspace, session_id: str) -> Path:
    return ws.session_dir(session_id) / "session.md"


def _models():
    """The pydantic models of session.md's front matter (built once, on first read)."""
    global _SessionRecord
    if _SessionRecord is not None:
        return _SessionRecord
    from typing import Literal

    from pydantic import Field

    from tacit.core.validation import Name, Offset, Record, RelativePath, Seconds, Text

    class MediaRecord(Record):
        file: RelativePath
        sha256: Text = ""
        offset: Offset = 0.0
        offset_source: Literal["given", "creation_time", "session", "default"] = "default"

    class AnswerRecord(Record):
        qid: Name
        section: Text = ""
        question: Text = ""
        text: Text = ""
        status: Literal["pending", "answered", "skipped", "follow-up"] = "pending"
        at: Seconds | None = None

    class StepRecord(Record):
        n: int = Field(ge=1, le=1_000_000)
        at: Seconds
        action: Text
        key_point: Text = ""
        reason: Text = ""
        practise: bool = False

    class SessionRecord(Record):
        id: Name
        expert: Name
        kind: Literal["interview", "observation"] = "interview"
        title: Text = ""
        guide: Text = ""
        task: Text = ""
        started: Text = ""
        status: Literal["open", "paused", "done"] = "open"
        consent: dict[str, Any] | Text | None = None  # status, by, use, when, history...
        restricted: bool = False
        media: list[MediaRecord] | None = Field(default=None, max_length=10_000)
        answers: list[AnswerRecord] | None = Field(default=None, max_length=100_000)
        steps: list[StepRecord] | None = Field(default=None, max_length=100_000)
        notes: Text = ""
        steps_done: bool = False
        interviewer: Text = ""

    _SessionRecord = SessionRecord
    return SessionRecord


_SessionRecord = None


def _build(found: FrontMatter, path: Path) -> Session:
    from tacit.core import validation

    record = validation.check(_models(), found.meta, path, FrontMatterError, line=found.line_of)
    consent = record.consent or dict(NOT_RECORDED)
    if isinstance(consent, str):
        consent = {"status": consent}
    return Session(
        id=record.id,
        expert=record.expert,
        kind=record.kind,
        title=record.title,
        guide=record.guide,
        task=record.task,
        started=record.started,
        status=record.status,
        consent=dict(consent),
        restricted=record.restricted,
        media=tuple(Media(**m.model_dump()) for m in record.media or ()),
        answers=tuple(Answer(**a.model_dump()) for a in record.answers or ()),
        steps=tuple(Step(**s.model_dump()) for s in record.steps or ()),
        notes=record.notes,
        steps_done=record.steps_done,
        interviewer=record.interviewer,
    )


def load_file(path: Path) -> Session:
    session = _build(front_matter_of(path), path)
    if session.kind not in KINDS:
        raise FrontMatterError(
            f"{path}: kind must be interview or observation, not {session.kind!r}"
        )
    return session


def get(ws: Workspace, session_id: str) -> Session:
    path = session_path(ws, session_id)
    if not path.is_file():
        raise NotFound(f"no session {session_id!r}; see `tacit session list`")
    return load_file(path)


def list_all(ws: Workspace, expert: str | None = None) -> list[Session]:
    if not ws.sessions_dir.is_dir():
        return []
    found = [load_file(p) for p in sorted(ws.sessions_dir.glob("*/session.md"))]
    return [s for s in found if expert is None or s.expert == expert]


def save(ws: Workspace, session: Session) -> Path:
    """Write session.md atomically: the front matter holds everything, the body shows it."""
    from tacit.records import session_page

    path = session_path(ws, session.id)
    ensure_dir(path.parent)
    meta = session.to_json()
    write_front_matter(path, meta, session_page.session_body(session))
    return path


def new_id(ws: Workspace, expert: str, label: str, day: dt.date | None = None) -> str:
    """YYYY-MM-DD-expert-label, with -2, -3... when taken. Never reuses a folder."""
    base = "-".join(p for p in ((day or dt.date.today()).isoformat(), expert, slugify(label)) if p)
    base = base[:100].strip("-")
    candidate, n = base, 2
    while ws.session_dir(candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return safe_name(candidate, "session id")


def create(ws: Workspace, expert: str, kind: str, label: str, **fields: Any) -> Session:
    """Create a new session folder; never overwrites an existing one."""
    if kind not in KINDS:
        raise TacitError(f"kind must be interview or observation, not {kind!r}")
    session_id = new_id(ws, expert, label)
    folder = ws.session_dir(session_id)
    try:
        folder.mkdir(mode=0o700, parents=False)
    except FileExistsError:
        raise TacitError(f"session {session_id} already exists") from None
    fields.setdefault("started", dt.datetime.now().astimezone().isoformat(timespec="seconds"))
    session = Session(id=session_id, expert=expert, kind=kind, **fields)
    save(ws, session)
    return session


def update(ws: Workspace, session: Session, **changes: Any) -> Session:
    updated = replace(session, **changes)
    save(ws, updated)
    return updated


_NAME_OK = re.compile(r"^[^\W\d][\w.'’ -]*$")


def speaker_name(name: str) -> str:
    """A speaker name every export format keeps (VTT voice tags, 'Name: text' lines)."""
    name = " ".join(name.split())
    if not _NAME_OK.match(name) or len(name.split()) > 5 or len(name) > 48:
        raise TacitError(
            f"speaker name {name!r}: start with a letter; up to five words of letters, "
            "digits, spaces, '.', '-', \"'\" and '_'"
        )
    return name


def interviewer_for(ws: Workspace, given: str | None) -> str:
    """--interviewer NAME, else [team] interviewer in tacit.toml, else nobody ("")."""
    name = given if given is not None else ws.config.section("team")["interviewer"]
    return speaker_name(name) if name and name.strip() else ""
