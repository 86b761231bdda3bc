"""Starting and resuming sessions: consent first, then the guide, then (maybe) a recording.

`start` and `resume` serve interviews and observations alike; what differs is the walk
(question_loop.ask_questions for an interview, observe.walk for an observation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from tacit.core import validation, workspace
from tacit.core.errors import GuideError, NotFound, TacitError
from tacit.core.workspace import Workspace
from tacit.interviews import observe, question_loop, recorder
from tacit.interviews.question_loop import AnswersFile, Clock, Terminal
from tacit.records import consent as consent_module
from tacit.records import experts, guides, media, sessions
from tacit.records.guides import Guide
from tacit.records.sessions import Session


@dataclass(frozen=True)
class Request:
    expert: str
    guide: str
    kind: str = "interview"  # interview | observation
    task: str = ""
    title: str | None = None
    consent: str | None = None  # --consent TEXT
    answers: Path | None = None  # --answers FILE: no prompts
    recording: Path | None = None  # --recording FILE: copied into media/
    offset: float | None = None  # --offset SECONDS for that recording
    record: bool = False  # --record: capture the microphone with ffmpeg
    restricted: bool = False
    interviewer: str | None = None  # --interviewer NAME (default: [team] interviewer)

    def __post_init__(self) -> None:
        validation.seconds(self.offset, "--offset", negative=True)


def _guide(ws: Workspace, name: str, kind: str) -> Guide:
    guide = guides.get(ws, name)
    if guide.kind != kind:
        command = "observe start" if guide.kind == "observation" else "interview start"
        raise TacitError(f"guide {name} is an {guide.kind} guide; use `tacit {command}`")
    return guide


def _consent(req: Request, doc: AnswersFile | None, name: str, term: Terminal | None) -> dict:
    if req.consent is not None:
        return consent_module.from_text(req.consent, name)
    if doc is not None and doc.consent is not None:
        return consent_module.from_mapping(doc.consent, name, doc.path)
    if term is not None:
        return consent_module.ask(term, name)
    return consent_module.not_recorded()


def _check_recording(consent: dict, record: bool, recording: Path | None, doc: object) -> None:
    if record and doc is not None:
        raise TacitError("--record captures audio while you walk the guide; not with --answers")
    if record:
        consent_module.require_for_recording(consent, "recording the microphone (--record)")
    if recording is not None:
        consent_module.require_for_recording(consent, f"keeping the recording {recording}")


def start(ws: Workspace, req: Request, term: Terminal | None) -> Session:
    """Create a new session (never overwriting one) and walk its guide, or apply --answers."""
    expert = experts.get(ws, req.expert)
    guide = _guide(ws, req.guide, req.kind)
    if req.kind == "observation" and not req.task.strip():
        raise TacitError("an observation needs --task: the task the expert is about to do")
    doc = None
    if req.answers is not None:
        doc = question_loop.read_answers_file(
            req.answers, guide, steps_allowed=req.kind == "observation"
        )
        observe.steps_from_file(doc, lambda: 0.0, 1)  # a bad step fails before anything is made
    interviewer = sessions.interviewer_for(ws, req.interviewer)
    consent = _consent(req, doc, expert.name, term if doc is None else None)
    _check_recording(consent, req.record, req.recording, doc)
    if req.recording is not None:
        media.probe(Path(req.recording).expanduser())  # a bad recording fails before the session
    if req.kind == "interview":
        label, title = guide.name, req.title or guide.title
    else:
        label, title = req.task, req.title or req.task
    with workspace.records_lock(ws):
        session = sessions.create(
            ws,
            expert.slug,
            req.kind,
            label,
            title=title,
            guide=guide.name,
            task=req.task,
            consent=consent,
            restricted=req.restricted,
            interviewer=interviewer,
            answers=question_loop.initial_answers(guide),
        )
    if term is not None and doc is None:
        # interactive: what was typed is kept, whatever happens next
        return proceed(ws, session, guide, term, doc, req.record, req.recording, req.offset)
    try:
        return proceed(ws, session, guide, term, doc, req.record, req.recording, req.offset)
    except BaseException:
        _discard(ws, session.id)  # nothing was typed into it: a failed command leaves nothing
        raise


def _discard(ws: Workspace, session_id: str) -> None:
    """Remove a session this command made and nothing else has written to."""
    import shutil

    shutil.rmtree(ws.session_dir(session_id), ignore_errors=True)


def resume(
    ws: Workspace,
    session_id: str,
    kind: str,
    term: Terminal | None,
    *,
    record: bool = False,
    recording: Path | None = None,
    offset: float | None = None,
    consent_text: str | None = None,
) -> Session:
    """Continue at the first unanswered question; every earlier answer stays as it was."""
    validation.seconds(offset, "--offset", negative=True)
    session = sessions.get(ws, session_id)
    if session.kind != kind:
        command = "observe resume" if session.kind == "observation" else "interview resume"
        raise TacitError(f"session {session_id} is an {session.kind}; use `tacit {command}`")
    try:
        guide = guides.get(ws, session.guide) if session.guide else None
    except (NotFound, GuideError):
        guide = None  # the session holds its own copy of the questions
    if consent_text is not None and not consent_module.is_given(session.consent):
        name = experts.get(ws, session.expert).name
        given = consent_module.from_text(consent_text, name)
        session = question_loop.save(ws, session, None, consent=given)
    _check_recording(session.consent, record, recording, None)
    return proceed(ws, session, guide, term, None, record, recording, offset)


def proceed(
    ws: Workspace,
    session: Session,
    guide: Guide | None,
    term: Terminal | None,
    doc: AnswersFile | None,
    record: bool,
    recording: Path | None,
    offset: float | None,
) -> Session:
    say = term.say if term else None
    with question_loop.session_lock(ws, session.id):
        session = _fix_media(ws, session)
        folder = ws.session_dir(session.id)
        if recording is not None:
            at = (offset, "given") if offset is not None else None
            copied = media.copy_in(folder, recording, at, started=question_loop.started_at(session))
            session = question_loop.save(ws, session, say, media=session.media + (copied,))
        clock = question_loop.clock_for(session)
        if doc is not None:
            return _apply(ws, session, doc, clock)
        if term is None:
            return session
        capture = None
        if record:
            log = ws.cache_dir / "logs" / f"{session.id}-ffmpeg.log"
            capture = recorder.start_capture(folder, ws.config, clock(), log)
            session = question_loop.save(ws, session, say, media=session.media + (capture.media,))
        try:
            walk = observe.walk if session.kind == "observation" else _interview_walk
            session = walk(ws, session, guide, term, clock)
        except KeyboardInterrupt:
            question_loop.save(ws, sessions.get(ws, session.id), None, status="paused")
            raise
        finally:
            if capture is not None:
                _store_capture(ws, session.id, recorder.stop_capture(capture))
        return sessions.get(ws, session.id)


def _interview_walk(
    ws: Workspace, session: Session, guide: Guide | None, term: Terminal, clock: Clock
) -> Session:
    session, paused = question_loop.ask_questions(ws, session, guide, term, clock)
    return question_loop.save(ws, session, term.say, status="paused" if paused else "done")


def _apply(ws: Workspace, session: Session, doc: AnswersFile, clock: Clock) -> Session:
    answers = question_loop.apply_answers(ws, session, doc, clock)
    steps = session.steps + observe.steps_from_file(doc, clock, len(session.steps) + 1)
    done = all(a.status != "pending" for a in answers)
    status = "done" if done else "paused"
    steps_done = session.steps_done or bool(doc.steps)
    return question_loop.save(
        ws, session, None, answers=answers, steps=steps, status=status, steps_done=steps_done
    )


def _store_capture(ws: Workspace, session_id: str, media: sessions.Media) -> None:
    latest = sessions.get(ws, session_id)
    kept = tuple(media if m.file == media.file else m for m in latest.media)
    question_loop.save(ws, latest, None, media=kept)


def _fix_media(ws: Workspace, session: Session) -> Session:
    """A recording cut off by a crash has no hash yet: hash what was written."""
    folder = ws.session_dir(session.id)
    fixed = tuple(
        replace(m, sha256=sessions.sha256_of(folder / m.file))
        if not m.sha256 and (folder / m.file).is_file()
        else m
        for m in session.media
    )
    if fixed == session.media:
        return session
    return question_loop.save(ws, session, None, media=fixed)
