"""Probing and decoding recordings with ffprobe/ffmpeg, and telling bad media apart.

Every way a recording can be unusable gets its own one-line MediaError: missing, empty, not
audio, no audio stream, truncated or corrupt (decoded duration short of the container's).
numpy is imported inside the functions that need it: this module loads with `tacit --help`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tacit.core.errors import MediaError

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16000  # what Whisper expects
FRAME_S = 0.02  # energy frames: 20 ms
FRAME = int(SAMPLE_RATE * FRAME_S)
BLOCK_S = 30.0  # decode in blocks this long: memory stays flat for hour-long recordings
# A decode this much shorter than the container says is truncated or corrupt. Containers whose
# duration is only estimated from the bitrate (VBR MP3 without a header) can be off by a few
# per cent, hence the relative part.
SHORT_ABS_S, SHORT_REL = 1.0, 0.03


@dataclass(frozen=True)
class Probe:
    path: Path
    duration: float  # what the container declares, seconds
    channels: int
    sample_rate: int
    codec: str
    creation_time: dt.datetime | None  # when the recorder started, if it wrote it


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MediaError(f"{name} is not installed; tacit needs ffmpeg to read recordings")
    return found


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no detail"


def _creation_time(tags: dict) -> dt.datetime | None:
    raw = tags.get("creation_time") or tags.get("date")
    if not raw:
        return None
    try:
        stamp = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def probe(path: Path) -> Probe:
    """Read the container: duration, the first audio stream, creation time."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path}: no such file")
    if path.is_dir():
        raise MediaError(f"{path}: is a folder, not a recording")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: the file is empty (0 bytes)")
    cmd = [_tool("ffprobe"), "-v", "error", "-show_format", "-show_streams", "-of", "json"]
    done = subprocess.run([*cmd, str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MediaError(f"{path}: not a recording ffmpeg can read ({_first_line(done.stderr)})")
    info = json.loads(done.stdout or "{}")
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        kinds = sorted({s.get("codec_type", "?") for s in info.get("streams", [])})
        has = f"it has only {', '.join(kinds)}" if kinds else "it has no streams"
        raise MediaError(f"{path}: no audio stream ({has})")
    stream, fmt = audio[0], info.get("format", {})
    duration = float(stream.get("duration") or fmt.get("duration") or 0.0)
    tags = {**fmt.get("tags", {}), **stream.get("tags", {})}
    return Probe(
        path=path,
        duration=duration,
        channels=int(stream.get("channels") or 1),
        sample_rate=int(stream.get("sample_rate") or 0),
        codec=str(stream.get("codec_name") or "?"),
        creation_time=_creation_time(tags),
    )


def _ffmpeg_cmd(path: Path, channels: int) -> list[str]:
    return [
        _tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path),
        "-map", "0:a:0", "-vn", "-ac", str(channels), "-ar", str(SAMPLE_RATE),
        "-f", "f32le", "-",
    ]  # fmt: skip


def decode_blocks(
    path: Path, channels: int, errors: list[str] | None = None
) -> Iterator[np.ndarray]:
    """Yield float32 blocks shaped (samples, channels) at 16 kHz; `channels` 1 downmixes.

    ffmpeg's error lines are appended to `errors` when the stream ends.
    """
    import numpy as np

    step = int(BLOCK_S * SAMPLE_RATE) * channels * 4
    proc = subprocess.Popen(
        _ffmpeg_cmd(path, channels), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        pending = b""
        while chunk := proc.stdout.read(step):
            pending += chunk
            usable = len(pending) - len(pending) % (4 * channels)
            if usable:
                yield np.frombuffer(pending[:usable], dtype=np.float32).reshape(-1, channels)
                pending = pending[usable:]
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        proc.wait()
        if errors is not None:
            errors.extend(line for line in stderr.splitlines() if line.strip())


def decode(path: Path, channels: int = 1) -> np.ndarray:
    """The whole recording as float32 (samples, channels). For short clips and tests."""
    import numpy as np

    blocks = list(decode_blocks(path, channels))
    if not blocks:
        return np.zeros((0, channels), dtype=np.float32)
    return np.concatenate(blocks)


def check_complete(found: Probe, decoded_s: float, errors: list[str]) -> None:
    """Refuse a recording that decodes short of its container's duration."""
    if found.duration <= 0:
        return  # a stream without a declared duration: nothing to compare with
    missing = found.duration - decoded_s
    if missing > max(SHORT_ABS_S, SHORT_REL * found.duration):
        detail = f"; ffmpeg says: {errors[0]}" if errors else ""
        raise MediaError(
            f"{found.path}: decoded only {decoded_s:.1f} s of the {found.duration:.1f} s its "
            f"container declares: the file is truncated or corrupt after {decoded_s:.1f} s"
            f"{detail}",
            hint="re-copy the recording from the recorder; --partial transcribes what decodes",
        )
    if decoded_s <= 0:
        raise MediaError(f"{found.path}: no audio could be decoded")
