"""Decoding recordings with ffmpeg to 16 kHz float samples, in blocks, and refusing a recording
that decodes short of what its container declares (truncated or corrupt).

Probing (what the file is, before anything is decoded or copied) is records/media.py.
numpy is imported inside the functions that need it: this module loads with `tacit --help`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tacit.core.errors import MediaError

if TYPE_CHECKING:
    import numpy as np

    from tacit.records.media import Probe

SAMPLE_RATE = 16000  # what Whisper expects
FRAME_S = 0.02  # energy frames: 20 ms
FRAME = int(SAMPLE_RATE * FRAME_S)
BLOCK_S = 30.0  # decode in blocks this long: memory stays flat for hour-long recordings
# A decode this much shorter than the container says is truncated or corrupt. Containers whose
# duration is only estimated from the bitrate (VBR MP3 without a header) can be off by a few
# per cent, hence the relative part.
SHORT_ABS_S, SHORT_REL = 1.0, 0.03


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MediaError(f"{name} is not installed; tacit needs ffmpeg to read recordings")
    return found


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
