"""A recording in a session: probed, copied into media/, and placed on the session's clock.

One path for every way a recording arrives (`tacit interview --recording`, `tacit transcribe
FILE`, `--media`, the recorder): the same probe (PyAV, FFmpeg's own libraries, in-process: it
tells a file that is not media, one without audio and an empty one apart), the same file names,
the same sha256 while copying, and the same clock guard for the offset.

The offset is the number of seconds from the session's start to the recording's start, so a note
stamped at `at` seconds plays at `at - offset`. It is the one given, else the container's
creation_time minus the session's start (unless that is further than MAX_OFFSET_S: a recorder
with a wrong clock), else 0; `offset_source` says which.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path

from tacit.core.errors import MediaError
from tacit.core.fileio import copy_file, ensure_dir
from tacit.core.workspace import Workspace, safe_name, slugify
from tacit.records import sessions
from tacit.records.sessions import Media, Session

MAX_OFFSET_S = 86400.0  # a creation_time further than a day from the session is a wrong clock


@dataclass(frozen=True)
class Probe:
    path: Path
    duration: float  # what the container declares, seconds (0 when it declares none)
    channels: int
    sample_rate: int
    codec: str
    creation_time: dt.datetime | None  # when the recorder started, if it wrote it


def _creation_time(tags: dict[str, str]) -> dt.datetime | None:
    raw = {k.lower(): v for k, v in tags.items()}.get("creation_time") or tags.get("date")
    if not raw:
        return None
    try:
        stamp = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    return stamp if stamp.year > 1971 else None  # 0 (1970): the muxer had no time to write


def probe(path: Path) -> Probe:
    """Read the container: duration, the first audio stream, creation time."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if path.is_dir():
        raise MediaError(f"{path}: is a folder, not a recording")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: the file is empty (0 bytes)")
    import av  # comes with faster-whisper; loaded only when a recording is read

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        detail = " ".join(str(getattr(exc, "strerror", "") or exc).split())[:200]
        raise MediaError(f"{path}: not a recording ffmpeg can read ({detail})") from None
    with container:
        audio = list(container.streams.audio)
        if not audio:
            kinds = sorted({s.type for s in container.streams})
            has = f"it has only {', '.join(kinds)}" if kinds else "it has no streams"
            raise MediaError(f"{path}: no audio stream ({has})")
        stream = audio[0]
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (container.duration or 0) / av.time_base
        return Probe(
            path=path,
            duration=duration,
            channels=int(stream.channels or 1),
            sample_rate=int(stream.sample_rate or 0),
            codec=str(stream.codec_context.name or "?"),
            creation_time=_creation_time({**container.metadata, **stream.metadata}),
        )


def session_start(session: Session) -> dt.datetime | None:
    if not session.started:
        return None
    try:
        started = dt.datetime.fromisoformat(session.started)
    except ValueError:
        return None
    return started if started.tzinfo else started.astimezone()


def offset(
    started: dt.datetime | None, created: dt.datetime | None, given: float | None
) -> tuple[float, str]:
    """(seconds from the session's start to the recording's, offset_source): the clock guard."""
    if given is not None:
        return float(given), "given"
    if created is not None and started is not None:
        seconds = (created - started).total_seconds()
        if abs(seconds) <= MAX_OFFSET_S:
            return round(seconds, 3), "creation_time"
    return 0.0, "default"


def file_name(path: Path, fallback: str) -> str:
    """A safe file name for a copy of `path`: 'Interview 3.M4A' -> 'interview-3.m4a'."""
    suffix = re.sub(r"[^a-z0-9]", "", path.suffix.lower())[:10]
    stem = slugify(path.stem)[:80] or fallback
    return safe_name(f"{stem}.{suffix}" if suffix else stem, "file name")


def free_path(folder: Path, name: str) -> Path:
    """folder/name, or name-2, name-3 ... when it is taken: a recording is never overwritten."""
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    candidate, n = folder / name, 2
    while candidate.exists():
        candidate = folder / (f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}")
        n += 1
    return candidate


def copy_in(
    session_dir: Path, source: Path, at: tuple[float, str] | None = None, *,
    started: dt.datetime | None = None,
) -> Media:  # fmt: skip
    """Copy a recording into session_dir/media/ (hashed while copying) as a Media entry.

    `at` is a known (offset, offset_source); without it the offset comes from the container's
    creation_time against `started`, through the clock guard.
    """
    source = Path(source).expanduser()
    if not source.is_file():
        raise MediaError(f"no recording file {source}")
    found = probe(source)  # not media: refused before anything is copied
    chosen, origin = at if at is not None else offset(started, found.creation_time, None)
    target = free_path(ensure_dir(session_dir / "media"), file_name(source, "recording"))
    digest = copy_file(source, target)
    relative = target.relative_to(session_dir).as_posix()
    return Media(file=relative, sha256=digest, offset=round(chosen, 3), offset_source=origin)


def attach(
    ws: Workspace, session: Session, source: Path, at: tuple[float, str] | None = None
) -> Session:
    """Copy a recording into the session and record it there (with its sha256)."""
    entry = copy_in(ws.session_dir(session.id), source, at, started=session_start(session))
    return sessions.update(ws, session, media=(*session.media, entry))


def with_offset(ws: Workspace, session_id: str, file: str, at: tuple[float, str]) -> Session:
    """Record the offset found for one recording of a session (after it was transcribed)."""
    fresh = sessions.get(ws, session_id)
    entries = tuple(
        replace(m, offset=at[0], offset_source=at[1]) if m.file == file else m for m in fresh.media
    )
    return sessions.update(ws, fresh, media=entries)


def session_with(ws: Workspace, sha256: str) -> Session | None:
    """The session that already holds this recording, if one does."""
    for session in sessions.list_all(ws):
        if any(m.sha256 == sha256 for m in session.media):
            return session
    return None
