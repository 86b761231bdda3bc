"""Playing a cited moment: citation -> recording and second -> a player found on the machine."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tacit.core import timefmt
from tacit.core.errors import NotFound, TacitError, UsageError
from tacit.core.workspace import Workspace
from tacit.records import sessions as sessions_module
from tacit.records import transcript as transcript_model

# (program, arguments before the file); {s} is the start second. First found wins.
PLAYERS = (
    ("ffplay", ["-hide_banner", "-loglevel", "error", "-autoexit", "-ss", "{s}"]),
    ("mpv", ["--start={s}"]),
    ("vlc", ["--play-and-exit", "--start-time={s}"]),
    ("cvlc", ["--play-and-exit", "--start-time={s}"]),
)


_CITED = re.compile(r"^\[?\s*(?P<session>[^\s·\]@]+)\s*·(?:.*·)?\s*(?P<time>[\d:.]+)\s*\]?$")
_AT = re.compile(r"^(?P<session>[^\s@]+)@(?P<time>[\d:.]+)$")


def parse_time(text: str) -> float:
    """'754', '754.5', '12:34' or '00:12:34' -> seconds."""
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        raise UsageError(f"not a time: {text!r} (use SECONDS or hh:mm:ss)") from None
    if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
        raise UsageError(f"not a time: {text!r} (use SECONDS or hh:mm:ss)")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def parse_citation(text: str) -> tuple[str, float]:
    """'[session · speaker · hh:mm:ss]', 'SESSION@hh:mm:ss' or 'SESSION@SECONDS' -> (id, s)."""
    text = text.strip()
    match = _AT.match(text) or _CITED.match(text)
    if match is None:
        raise UsageError(
            f"not a citation: {text!r}; give '[session · speaker · hh:mm:ss]', "
            "SESSION@hh:mm:ss or SESSION@SECONDS"
        )
    return match.group("session"), parse_time(match.group("time"))


@dataclass(frozen=True)
class Moment:
    session: str
    seconds: float
    file: Path  # absolute
    relative: str  # relative to the KB root

    @property
    def label(self) -> str:
        at, seconds = timefmt.clock(self.seconds), timefmt.media_seconds(self.seconds)
        return f"{self.relative} at {at} ({seconds} s)"

    def to_json(self) -> dict:
        return {
            "session": self.session,
            "file": self.relative,
            "seconds": self.seconds,
            "time": timefmt.clock(self.seconds),
            "media": f"{self.relative}#t={timefmt.media_seconds(self.seconds)}",
        }


def locate(ws: Workspace, cited: str) -> Moment:
    """The recording and second a citation points to (times are in the recording's time)."""
    session_id, seconds = parse_citation(cited)
    session = sessions_module.get(ws, session_id)
    folder = ws.session_dir(session.id)
    names = [m.file for m in session.media]
    transcript_path = folder / transcript_model.TRANSCRIPT_NAME
    if transcript_path.is_file():
        media_file = transcript_model.load(transcript_path).media_file
        if media_file:
            names.insert(0, media_file)  # the recording the transcript's times belong to
    for name in names:
        path = (folder / name).resolve()
        if not ws.inside(path):
            raise TacitError(f"session {session.id}: media path {name!r} leaves the KB")
        if path.is_file():
            relative = str(path.relative_to(ws.root.resolve()))
            return Moment(session.id, seconds, path, relative)
    raise NotFound(
        f"session {session.id} has no recording in the knowledge base "
        "(its transcript was imported or its media was removed)"
    )


def find_player() -> tuple[str, list[str]] | None:
    for program, args in PLAYERS:
        path = shutil.which(program)
        if path:
            return path, args
    return None


def play(moment: Moment) -> tuple[str | None, int]:
    """Play from the moment with the first player found: (its name, exit status), or
    (None, 0) when there is none."""
    found = find_player()
    if found is None:
        return None, 0
    program, args = found
    command = [
        program,
        *(a.format(s=timefmt.media_seconds(moment.seconds)) for a in args),
        str(moment.file),
    ]
    try:
        done = subprocess.run(command, check=False)
    except OSError as exc:
        raise TacitError(f"could not start {Path(program).name}: {exc.strerror}") from None
    return Path(program).name, done.returncode
