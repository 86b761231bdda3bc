"""What interviews and observations share: the question loop, saving, --answers files, recording.

The loop talks to the interviewer through a small Terminal protocol (the rich implementation
lives in interviews/terminal.py), so the core can be driven by tests and scripts. Every answer
is written to session.md atomically the moment it is entered.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from tacit.core import workspace
from tacit.core.errors import LockBusy, TacitError
from tacit.core.workspace import Workspace
from tacit.records import sessions
from tacit.records.guides import Guide, Section
from tacit.records.sessions import Answer, Session

END = "."
STATUS_OF_REPLY = {"answer": "answered", "skip": "skipped", "follow-up": "follow-up"}
FILE_STATUSES = ("answered", "skipped", "follow-up")
ANSWER_HELP = (
    'Type the answer (several lines are fine) and end it with a line holding only "."; '
    "or a command: skip [reason] · back · follow-up [note] · pause"
)


@dataclass(frozen=True)
class Card:
    """Everything shown for one question."""

    position: int  # 1-based, among the questions of this walk
    total: int
    qid: str
    section: str
    opens_section: bool
    section_notes: str  # shown when the question opens its section
    question: str
    why: str = ""
    probes: tuple[str, ...] = ()
    status: str = "pending"
    text: str = ""


class Terminal(Protocol):
    def show_question(self, card: Card) -> None: ...

    def show_section(self, section: Section) -> None: ...

    def ask(self, prompt: str, default: str = "") -> str | None:
        """One line; None at the end of input."""

    def say(self, text: str) -> None: ...


Clock = Callable[[], float]


def clock_for(session: Session) -> Clock:
    """Seconds since the session's start (wall clock, so a resumed session keeps counting)."""
    try:
        start = dt.datetime.fromisoformat(session.started).timestamp()
    except ValueError:
        start = time.time()
    return lambda: round(max(0.0, time.time() - start), 1)


def started_at(session: Session) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(session.started)
    except ValueError:
        return dt.datetime.now().astimezone()


def save(
    ws: Workspace, session: Session, say: Callable[[str], None] | None, **changes: Any
) -> Session:
    """Write the changes under the KB's lock; while another writer holds it, wait, never drop.

    The changes go onto the file's latest state, so what another command changed meanwhile
    (consent recorded with `tacit consent`, say) is kept.
    """
    while True:
        try:
            with workspace.records_lock(ws):
                return sessions.update(ws, sessions.get(ws, session.id), **changes)
        except LockBusy as exc:
            if say is None:
                raise
            who = exc.message.partition(" (waited")[0]  # e.g. `tacit consent` (pid 7) is ...
            say(f"{who}; waiting to save...")


@contextlib.contextmanager
def session_lock(ws: Workspace, session_id: str) -> Iterator[None]:
    """One terminal per session: a second `resume` of an open session is refused."""
    from filelock import FileLock, Timeout

    folder = ws.cache_dir / "sessions"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = workspace.safe_name(session_id, "session id")
    lock = FileLock(str(folder / f"{name}.lock"), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise TacitError(f"session {session_id} is open in another terminal") from None
    try:
        yield
    finally:
        lock.release()


# ---------------------------------------------------------------- replies


@dataclass(frozen=True)
class Reply:
    kind: str  # answer | skip | back | follow-up | pause | keep
    text: str = ""


def read_reply(term: Terminal) -> Reply:
    """A command on the first line, or a multi-line answer ended by a line holding only '.'."""
    first = term.ask(">")
    if first is None:
        return Reply("pause")  # end of input: what was saved stays saved
    word, _, rest = first.strip().partition(" ")
    command = word.lower()
    if command in ("back", "pause") and not rest:
        return Reply(command)
    if command == "skip":
        return Reply("skip", rest.strip())
    if command in ("follow-up", "followup"):
        return Reply("follow-up", rest.strip())
    if first.strip() == END:
        return Reply("keep")
    lines = [first.rstrip()]
    while True:
        line = term.ask("…")
        if line is None or line.strip() == END:
            break
        lines.append(line.rstrip())
    return Reply("answer", "\n".join(lines).strip("\n"))


def _card(session: Session, guide: Guide | None, index: int, order: list[int]) -> Card:
    answer = session.answers[index]
    found = guide.find(answer.qid) if guide else None
    section, question = found if found else (None, None)
    earlier = session.answers[index - 1] if index > 0 else None
    opens_section = earlier is None or earlier.section != answer.section
    return Card(
        position=order.index(index) + 1,
        total=len(order),
        qid=answer.qid,
        section=answer.section,
        opens_section=opens_section,
        section_notes=section.notes if section and opens_section else "",
        question=answer.question,
        why=question.why if question else "",
        probes=question.probes if question else (),
        status=answer.status,
        text=answer.text,
    )


def ask_questions(
    ws: Workspace,
    session: Session,
    guide: Guide | None,
    term: Terminal,
    clock: Clock,
    include: Callable[[Answer], bool] = lambda _a: True,
) -> tuple[Session, bool]:
    """Walk the pending questions one at a time; returns (session, paused)."""
    order = [i for i, a in enumerate(session.answers) if include(a)]

    def first_pending() -> int | None:
        pending = (p for p, i in enumerate(order) if session.answers[i].status == "pending")
        return next(pending, None)

    pos = first_pending()
    while pos is not None:
        index = order[pos]
        asked_at = clock()
        term.show_question(_card(session, guide, index, order))
        reply = read_reply(term)
        if reply.kind == "pause":
            return session, True
        if reply.kind == "back":
            if pos == 0:
                term.say("this is the first question")
            pos = max(pos - 1, 0)
            continue
        if reply.kind == "keep":
            if session.answers[index].status == "pending":
                term.say('nothing typed: type an answer and end it with ".", or type skip')
                continue
        else:
            answered = replace(
                session.answers[index],
                text=reply.text,
                status=STATUS_OF_REPLY[reply.kind],
                at=asked_at,
            )
            answers = session.answers[:index] + (answered,) + session.answers[index + 1 :]
            session = save(ws, session, term.say, answers=answers, status="open")
        pos = first_pending()
    return session, False


def initial_answers(guide: Guide) -> tuple[Answer, ...]:
    """Every question of the guide, pending: the session keeps its own copy of the questions."""
    return tuple(Answer(qid=q.id, section=s.title, question=q.text) for s, q in guide.questions())


# ---------------------------------------------------------------- --answers files


@dataclass(frozen=True)
class AnswersFile:
    answers: dict[str, tuple[str, str]]  # question id -> (text, status)
    consent: Any = None
    steps: tuple[dict[str, Any], ...] = field(default=())
    path: Path = Path()


def read_answers_file(path: Path, guide: Guide, steps_allowed: bool) -> AnswersFile:
    """YAML: question id -> text or {text, status}; optional consent: and (observations) steps:."""
    from tacit.core import validation

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = validation.compose_yaml(text)
        data = validation.load_yaml(text)
    except FileNotFoundError:
        raise TacitError(f"no answers file {path}") from None
    except IsADirectoryError:
        raise TacitError(f"{path} is a folder, not an answers file") from None
    except UnicodeDecodeError:
        raise TacitError(f"{path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        line, problem = validation.yaml_problem(exc)
        where = f"line {line}: " if line else ""
        if isinstance(exc, validation.RefusedYAML):
            raise TacitError(f"{path}: {where}{problem}") from None
        raise TacitError(f"{path}: {where}not a readable YAML file") from None
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        raise TacitError(f"{path}: must be a mapping of question ids to answers")
    known = {q.id for _s, q in guide.questions()}
    answers: dict[str, tuple[str, str]] = {}
    for key_node, value_node in node.value:
        key, line = str(key_node.value), key_node.start_mark.line + 1
        if key == "consent" or (key == "steps" and steps_allowed):
            continue
        if key not in known:
            raise TacitError(
                f"{path}: line {line}: {key!r} is not a question of guide {guide.name}",
                hint=f"`tacit guide show {guide.name}` lists the question ids",
            )
        answers[key] = _answer_value(value_node, f"{path}: line {line}")
    steps = data.get("steps") if steps_allowed else None
    if steps is not None and not (
        isinstance(steps, list) and all(isinstance(s, dict) for s in steps)
    ):
        raise TacitError(f"{path}: steps must be a list of mappings (action, key_point, reason)")
    return AnswersFile(answers, data.get("consent"), tuple(steps or ()), path)


def _answer_value(node: Any, where: str) -> tuple[str, str]:
    # scalars are read as written: an answer "yes" stays the text "yes", not a boolean
    if isinstance(node, yaml.ScalarNode) and node.value.strip():
        return node.value.strip("\n"), "answered"
    if isinstance(node, yaml.MappingNode):
        fields = {str(k.value): v for k, v in node.value}
        unknown = set(fields) - {"text", "status"}
        if unknown:
            names = ", ".join(sorted(unknown))
            raise TacitError(f"{where}: unknown keys {names} (use text and status)")
        for key, value in fields.items():
            if not isinstance(value, yaml.ScalarNode):
                raise TacitError(f"{where}: {key} must be text, not a list or mapping")
        text = fields["text"].value.strip("\n") if "text" in fields else ""
        status = fields["status"].value if "status" in fields else "answered"
        if status not in FILE_STATUSES:
            raise TacitError(f"{where}: status must be one of {', '.join(FILE_STATUSES)}")
        if status == "answered" and not text.strip():
            raise TacitError(f"{where}: an answered question needs text")
        return text, status
    raise TacitError(f"{where}: give the answer's text, or a mapping with text and status")


def apply_answers(
    ws: Workspace, session: Session, doc: AnswersFile, clock: Clock
) -> tuple[Answer, ...]:
    # Notes from a file were typed at no known moment of the recording: stamping them with the
    # clock of the import would make every citation point at the same wrong second.
    del clock
    return tuple(
        replace(a, text=doc.answers[a.qid][0], status=doc.answers[a.qid][1], at=None)
        if a.qid in doc.answers
        else a
        for a in session.answers
    )


def summary(session: Session) -> dict[str, int]:
    counts = {"answered": 0, "skipped": 0, "follow-up": 0, "pending": 0}
    for answer in session.answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    counts["steps"] = len(session.steps)
    counts["practise"] = sum(1 for s in session.steps if s.practise)
    return counts
