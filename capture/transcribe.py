"""`tacit transcribe SESSION_ID|FILE`: find or make the session, then run the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tacit.capture import engine, importer, pipeline, terms
from tacit.core.errors import TacitError
from tacit.core.workspace import Workspace
from tacit.records import media, sessions
from tacit.records.sessions import Session


@dataclass(frozen=True)
class Request:
    target: str  # a session id, or a recording's path
    expert: str | None = None  # for a new session
    kind: str = "interview"
    title: str | None = None
    consent: str | None = None
    media: Path | None = None  # a recording to attach to an existing session first
    model: str | None = None
    device: str | None = None
    language: str | None = None
    interviewer: str | None = None  # --interviewer NAME (default: [team] interviewer)
    run: pipeline.RunOptions = field(default_factory=pipeline.RunOptions)


@dataclass(frozen=True)
class Started:
    session_id: str
    created: bool  # a new session was made for the recording
    media_file: str
    checked: pipeline.Checked | None = None  # the recording, checked before the session was made


def _started(found: media.Probe) -> str | None:
    if found.creation_time is None:
        return None
    return found.creation_time.astimezone().isoformat(timespec="seconds")


def _new_session_for(
    ws: Workspace, path: Path, request: Request
) -> tuple[Session, pipeline.Checked]:
    importer.require_expert(ws, request.expert)
    checked = pipeline.check(path, request.run.partial)  # refused before any session exists
    pipeline.plan_for(checked, request.run)  # and so are options that do not fit it
    digest = sessions.sha256_of(path)
    existing = media.session_with(ws, digest)
    if existing is not None:
        raise TacitError(
            f"this recording is already in session {existing.id}; "
            f"`tacit transcribe {existing.id}` transcribes it (again, with --force)"
        )
    session = importer.new_session(
        ws,
        request.expert,
        kind=request.kind,
        title=request.title,
        consent=request.consent,
        label=request.title or path.stem,
        started=_started(checked.probe),
        interviewer=request.interviewer,
    )
    offset = request.run.offset if request.run.offset is not None else 0.0
    source = "given" if request.run.offset is not None else "session"
    try:
        session = media.attach(ws, session, path, (offset, source))
    except BaseException:
        importer.discard_session(ws, session.id)  # no recording copied: no session either
        raise
    return session, checked


def _attach(ws: Workspace, session: Session, path: Path, request: Request):
    checked = pipeline.check(path, request.run.partial)
    offset = request.run.offset if request.run.offset is not None else 0.0
    source = "given" if request.run.offset is not None else "default"
    return media.attach(ws, session, path, (offset, source)), checked


def resolve(ws: Workspace, request: Request) -> Started:
    """The session to transcribe: an existing one (maybe with --media attached) or a new one."""
    target = request.target
    path = Path(target).expanduser()
    is_session = _looks_like_session(ws, target)
    if path.is_file() or (not is_session and ("/" in target or path.suffix)):
        if request.media is not None:
            raise TacitError("--media attaches a recording to an existing session; give its id")
        session, checked = _new_session_for(ws, path, request)
        return Started(session.id, True, session.media[-1].file, checked)
    session = sessions.get(ws, target)
    if request.interviewer is not None:
        interviewer = sessions.interviewer_for(ws, request.interviewer)
        session = sessions.update(ws, session, interviewer=interviewer)
    if request.media is not None:
        session, checked = _attach(ws, session, Path(request.media).expanduser(), request)
        return Started(session.id, False, session.media[-1].file, checked)
    return Started(session.id, False, pipeline.pick_media(session, None).file)


def _looks_like_session(ws: Workspace, target: str) -> bool:
    try:
        return sessions.session_path(ws, target).is_file()
    except TacitError:
        return False


def _expert_of(ws: Workspace, request: Request) -> str | None:
    """Whose recording this is: the session's expert, or --expert for a new session."""
    if _looks_like_session(ws, request.target):
        return sessions.get(ws, request.target).expert
    return request.expert


def transcribe(
    ws: Workspace, request: Request, transcriber: engine.Transcriber | None = None
) -> Iterator[Started | pipeline.Progress | pipeline.Done]:
    """Yield Started, then Progress events, then Done."""
    if request.kind not in sessions.KINDS:
        raise TacitError(f"--kind must be interview or observation, not {request.kind!r}")
    if request.run.channels not in pipeline.CHANNEL_MODES:
        raise TacitError(f"--channels must be auto, split or mix, not {request.run.channels!r}")
    if request.interviewer is not None:
        sessions.interviewer_for(ws, request.interviewer)  # a bad name: refused first
    if transcriber is None:  # model and device are checked before anything is written
        options = engine.options_from_config(
            ws.config,
            model=request.model,
            device=request.device,
            language=request.language,
            vocabulary=terms.vocabulary_for(ws, _expert_of(ws, request)),
        )
        transcriber = engine.FasterWhisper(options)
    started = resolve(ws, request)
    yield started
    yield from pipeline.run(
        ws,
        started.session_id,
        transcriber,
        request.run,
        media_file=started.media_file,
        checked=started.checked,
    )
