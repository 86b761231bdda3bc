"""Recordings for a session: capture from the microphone with ffmpeg, or copy a file in.

Each recording becomes a Media entry whose offset is the number of seconds from the session's
start to the recording's start, so a note stamped at `at` seconds plays at `at - offset`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tacit.core.config import Config
from tacit.core.errors import MediaError
from tacit.core.fileio import copy_file, ensure_dir, sha256_of
from tacit.core.workspace import safe_name, slugify
from tacit.records.sessions import Media

MAX_OFFSET_S = 86400.0  # a creation_time further than a day from the session is a wrong clock
STOP_WAIT_S = 5.0
START_WAIT_S = 3.0


def _ffmpeg(program: str = "ffmpeg") -> str:
    path = shutil.which(program)
    if path is None:
        raise MediaError(f"{program} is not installed; install ffmpeg (e.g. `make setup`)")
    return path


def _die_with_parent() -> None:
    """Linux: ffmpeg gets SIGINT (and closes its file cleanly) if tacit itself is killed."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Capture:
    """A running ffmpeg capture (mutable: it owns a process)."""

    process: subprocess.Popen
    path: Path
    media: Media
    log: Path


def free_name(folder: Path, stem: str, suffix: str) -> Path:
    """folder/stem.suffix, or stem-2, stem-3...: never overwrite a recording."""
    candidate, n = folder / f"{stem}{suffix}", 2
    while candidate.exists():
        candidate, n = folder / f"{stem}-{n}{suffix}", n + 1
    return candidate


def start_capture(session_dir: Path, config: Config, offset: float, log: Path) -> Capture:
    """Start ffmpeg on the configured input; the recording is Ogg/Opus (safe if cut off)."""
    fmt, device = config.recording["input_format"], config.recording["input_device"]
    path = free_name(ensure_dir(session_dir / "media"), "recording", ".ogg")
    # a synthetic lavfi source would be read as fast as possible; -re paces it like a microphone
    pace = ["-re"] if fmt == "lavfi" else []
    command = [_ffmpeg(), "-hide_banner", "-nostats", "-loglevel", "error", *pace]
    command += ["-f", fmt, "-i", device, "-ac", "1", "-c:a", "libopus", "-b:a", "48k", "-n"]
    ensure_dir(log.parent)
    with open(log, "wb") as err:
        process = subprocess.Popen(
            [*command, str(path)],
            stdin=subprocess.PIPE,  # never the terminal: ffmpeg would eat the interviewer's keys
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # Ctrl-C reaches tacit, which stops ffmpeg cleanly
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline and process.poll() is None and not path.exists():
        time.sleep(0.05)
    if process.poll() is not None:
        detail = log.read_text(errors="replace").strip().splitlines()
        raise MediaError(
            f"ffmpeg could not record from {fmt}:{device}: {detail[-1] if detail else 'no output'}",
            hint="set [recording] input_format and input_device in tacit.toml",
        )
    relative = path.relative_to(session_dir).as_posix()
    media = Media(file=relative, sha256="", offset=round(offset, 2), offset_source="session")
    return Capture(process=process, path=path, media=media, log=log)


def stop_capture(capture: Capture) -> Media:
    """Ask ffmpeg to finish ('q'), then SIGINT, then kill; hash what was written."""
    process = capture.process
    if process.poll() is None:
        try:
            process.stdin.write(b"q")
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        for stop in (None, signal.SIGINT, signal.SIGKILL):
            if stop is not None and process.poll() is None:
                process.send_signal(stop)
            try:
                process.wait(timeout=STOP_WAIT_S)
                break
            except subprocess.TimeoutExpired:
                continue
    if not capture.path.is_file():
        raise MediaError(f"the recording {capture.path} was not written; see {capture.log}")
    return Media(
        file=capture.media.file,
        sha256=sha256_of(capture.path),
        offset=capture.media.offset,
        offset_source=capture.media.offset_source,
    )


def probe_start(path: Path) -> dt.datetime | None:
    """The container's creation_time, when ffprobe can read the file; MediaError when not media."""
    result = subprocess.run(
        [_ffmpeg("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unreadable"])[-1]
        raise MediaError(f"{path} is not a recording ffmpeg can read: {reason}")
    tags = json.loads(result.stdout or "{}").get("format", {}).get("tags", {})
    stamp = {k.lower(): v for k, v in tags.items()}.get("creation_time")
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    # a creation_time of 0 (1970) means the muxer had none to write
    return when if when.year > 1971 else None


def copy_in(
    source: Path, session_dir: Path, session_start: dt.datetime, offset: float | None
) -> Media:
    """Copy a recording into media/ (hashed while copying) and work out its offset.

    The offset is the one given, else the container's creation_time minus the session's start,
    else 0; offset_source says which.
    """
    source = Path(source).expanduser()
    if not source.is_file():
        raise MediaError(f"no recording file {source}")
    created = probe_start(source)
    if offset is not None:
        chosen, origin = float(offset), "given"
    elif created is not None and abs((created - session_start).total_seconds()) <= MAX_OFFSET_S:
        chosen, origin = (created - session_start).total_seconds(), "creation_time"
    else:
        chosen, origin = 0.0, "default"
    stem = slugify(source.stem) or "recording"
    suffix = "".join(ch for ch in source.suffix.lower() if ch.isalnum() or ch == ".")
    target = free_name(ensure_dir(session_dir / "media"), stem, suffix)
    safe_name(target.name, "media file name")
    digest = copy_file(source, target)
    relative = target.relative_to(session_dir).as_posix()
    return Media(file=relative, sha256=digest, offset=round(chosen, 2), offset_source=origin)
