"""Recording a session from the microphone with ffmpeg (a file brought in is records/media.py).

Each recording becomes a Media entry whose offset is the number of seconds from the session's
start to the recording's start, so a note stamped at `at` seconds plays at `at - offset`.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tacit.core.config import Config
from tacit.core.errors import MediaError
from tacit.core.fileio import ensure_dir, sha256_of
from tacit.records import media
from tacit.records.sessions import Media

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


def start_capture(session_dir: Path, config: Config, offset: float, log: Path) -> Capture:
    """Start ffmpeg on the configured input; the recording is Ogg/Opus (safe if cut off)."""
    fmt, device = config.recording["input_format"], config.recording["input_device"]
    path = media.free_path(ensure_dir(session_dir / "media"), "recording.ogg")
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
    entry = Media(file=relative, sha256="", offset=round(offset, 2), offset_source="session")
    return Capture(process=process, path=path, media=entry, log=log)


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
