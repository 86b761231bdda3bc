"""Loudness analysis of a decoded recording: silence, speech regions, pieces, channel similarity.

One pass over the recording (`scan`) yields 20 ms frame levels per channel. Everything that
decides where the model looks is computed from them, before any transcription:
- which channels carry different speakers (two-channel recordings),
- where long silences are, so the model never sees them (no text hallucinated in a pause, and
  no segment can stretch across one),
- where to cut long recordings into pieces (at the quietest moment near each piece's end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tacit.capture import decode
from tacit.records import media

if TYPE_CHECKING:
    import numpy as np

FLOOR_DB = -100.0
# A frame is silent when it is below noise + 25 % of the way up to the speech level. With less
# than 15 dB between the two nothing is treated as silent (trimming and skipping turn off).
SILENCE_FRACTION, MIN_RANGE_DB = 0.25, 15.0
# The silence guard. When noise and loudest frames are less than MIN_RANGE_DB apart and the
# loudest (95th percentile) stay under SPEECH_FLOOR_DB, the recording is silence or low noise:
# no frame is active, so the model never hears it (it writes "you" into digital silence and
# "." into pink noise). A sound in it still counts when its loudest half second (WORD_S)
# stands MIN_RANGE_DB above the noise and above the floor: a click or a noise peak of a few
# frames is not a word. The speech fixtures measure -21 to -14 dBFS at the 95th percentile;
# pink noise at -54 dBFS RMS about -54 (benchmarks/silence.py measures the guard).
SPEECH_FLOOR_DB = -45.0
LONG_SILENCE_S = 3.0  # no segment may span a pause this long
# Whisper encodes 30 s windows, one per clip at least: regions closer than MERGE_GAP_S are
# heard in one window while it lasts (a pause of a few seconds costs less to hear than a second
# window), longer pauses are never sent to the model.
WINDOW_S, MERGE_GAP_S = 30.0, 10.0
PAD_S = 0.25  # speech kept either side of a region, so soft onsets and endings survive
# Two channels whose 20 ms loudness envelopes correlate below this carry different speakers.
# Measured (benchmarks/transcribe.py --channels) on the fixtures: a speaker per channel -0.27;
# the same with the other speaker leaking in at -20 dB -0.07, at -12 dB 0.25, at -6 dB 0.70
# (too loud to split: the leak would be transcribed twice); room stereo of one talk 0.99; the
# same signal on both channels 1.00. The demo sample (examples/sample) measures -0.32.
SPLIT_BELOW = 0.5
# In split mode a frame belongs to a channel only if it is no more than this much quieter
# than the loudest channel: the other speaker leaking into this microphone is not transcribed.
CROSSTALK_DB = 10.0


@dataclass(frozen=True)
class Levels:
    """Frame levels in dB (20 ms frames) of one audio stream, and its silence threshold."""

    db: np.ndarray
    threshold: float

    def active(self) -> np.ndarray:
        return self.db > self.threshold


@dataclass(frozen=True)
class Scan:
    decoded_s: float
    channels: tuple[Levels, ...]  # one per channel of the recording
    mix: Levels  # the downmix
    similarity: float  # envelope correlation of the first two channels (1.0 for mono)
    errors: tuple[str, ...] = field(default=())


def to_db(power: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-12)), FLOOR_DB)


WORD_S = 0.5  # the shortest span a spoken word fills: a click or a noise peak is shorter


def _loudest_word_db(db: np.ndarray) -> float:
    """The level of the loudest WORD_S of the recording (mean power over the span)."""
    import numpy as np

    span = max(1, min(db.size, round(WORD_S / decode.FRAME_S)))
    power = np.convolve(10.0 ** (db / 10.0), np.ones(span) / span, mode="valid")
    return float(10.0 * np.log10(max(float(power.max()), 1e-12)))


def silence_threshold(db: np.ndarray) -> float:
    """Noise floor + a quarter of the way to the speech level. When the two are too close:
    -inf (all of it is heard) if that level is speech-loud, else only what stands out."""
    import numpy as np

    if db.size == 0:
        return float("-inf")
    noise, speech = np.percentile(db, 10), np.percentile(db, 95)
    if speech - noise < MIN_RANGE_DB:
        if speech >= SPEECH_FLOOR_DB:
            return float("-inf")  # one even level of speech, no pauses: all of it is heard
        floor = max(noise + MIN_RANGE_DB, SPEECH_FLOOR_DB)
        if _loudest_word_db(db) < floor:
            return float("inf")  # silence or low noise throughout: nothing is heard
        return float(floor)  # a word in the quiet: what stands out of the noise is heard
    return float(noise + SILENCE_FRACTION * (speech - noise))


def _frame_power(samples: np.ndarray) -> np.ndarray:
    """(n, ch) samples, n a multiple of FRAME -> (frames, ch) mean power."""
    frames = samples.reshape(-1, decode.FRAME, samples.shape[1])
    return (frames.astype("float64") ** 2).mean(axis=1)


def envelope_similarity(power: np.ndarray) -> float:
    """Pearson correlation of the first two channels' loudness envelopes (RMS per frame)."""
    import numpy as np

    if power.shape[1] < 2 or power.shape[0] < 2:
        return 1.0
    left, right = np.sqrt(power[:, 0]), np.sqrt(power[:, 1])
    if left.std() < 1e-9 or right.std() < 1e-9:
        return 1.0  # one channel empty or constant: nothing to split
    return float(np.corrcoef(left, right)[0, 1])


def scan(found: media.Probe) -> Scan:
    """Decode the whole recording once: its true duration and the levels of every channel."""
    import numpy as np

    channels = max(1, found.channels)
    errors: list[str] = []
    powers, mixes, carry = [], [], np.zeros((0, channels), dtype=np.float32)
    total = 0
    for block in decode.decode_blocks(found.path, channels, errors):
        total += len(block)
        data = np.concatenate([carry, block]) if len(carry) else block
        usable = len(data) - len(data) % decode.FRAME
        powers.append(_frame_power(data[:usable]))
        mixes.append(_frame_power(data[:usable].mean(axis=1, keepdims=True))[:, 0])
        carry = data[usable:]
    if len(carry):
        padded = np.zeros((decode.FRAME, channels), dtype=np.float32)
        padded[: len(carry)] = carry
        powers.append(_frame_power(padded))
        mixes.append(_frame_power(padded.mean(axis=1, keepdims=True))[:, 0])
    power = np.concatenate(powers) if powers else np.zeros((0, channels))
    mix = np.concatenate(mixes) if mixes else np.zeros(0)
    levels = tuple(_levels(to_db(power[:, c])) for c in range(channels))
    return Scan(
        decoded_s=total / decode.SAMPLE_RATE,
        channels=levels,
        mix=_levels(to_db(mix)),
        similarity=envelope_similarity(power),
        errors=tuple(errors),
    )


def _levels(db: np.ndarray) -> Levels:
    return Levels(db=db, threshold=silence_threshold(db))


def split_activity(channels: tuple[Levels, ...]) -> list[np.ndarray]:
    """Per channel: frames where it speaks and is not just hearing the other channel's speaker."""
    import numpy as np

    loudest = np.max(np.stack([c.db for c in channels]), axis=0)
    return [c.active() & (c.db >= loudest - CROSSTALK_DB) for c in channels]


def regions(active: np.ndarray, start_s: float, end_s: float) -> list[tuple[float, float]]:
    """Speech regions inside [start_s, end_s): active frames, joined across pauses shorter than
    LONG_SILENCE_S, padded by PAD_S and clipped to the window. Empty when all is silent."""
    import numpy as np

    lo, hi = int(start_s / decode.FRAME_S), int(np.ceil(end_s / decode.FRAME_S))
    window = active[lo:hi]
    if window.size == 0 or not window.any():
        return []
    idx = np.flatnonzero(window)
    breaks = np.flatnonzero(np.diff(idx) * decode.FRAME_S >= LONG_SILENCE_S)
    firsts = np.concatenate([[idx[0]], idx[breaks + 1]])
    lasts = np.concatenate([idx[breaks], [idx[-1]]])
    found = []
    for first, last in zip(firsts, lasts, strict=True):
        begin = max(start_s, start_s + first * decode.FRAME_S - PAD_S)
        end = min(end_s, start_s + (last + 1) * decode.FRAME_S + PAD_S)
        found.append((round(float(begin), 3), round(float(end), 3)))
    return found


def clips(found: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Speech regions merged into as few model windows as pauses under MERGE_GAP_S allow."""
    merged: list[tuple[float, float]] = []
    for begin, end in found:
        if merged and begin - merged[-1][1] < MERGE_GAP_S and end - merged[-1][0] <= WINDOW_S:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((begin, end))
    return merged


def plan_pieces(db: np.ndarray, duration: float, piece_s: float) -> list[tuple[float, float]]:
    """Cut [0, duration) into pieces of about piece_s, each cut at the quietest half second in
    the last quarter of the piece, so that no word is cut in two."""
    import numpy as np

    pieces, start = [], 0.0
    smooth = max(1, int(0.5 / decode.FRAME_S))
    quiet = np.convolve(db, np.ones(smooth) / smooth, mode="same") if db.size else db
    while duration - start > piece_s * 1.25:
        lo = int((start + 0.75 * piece_s) / decode.FRAME_S)
        hi = int((start + piece_s) / decode.FRAME_S)
        window = quiet[lo:hi]
        cut = (lo + int(np.argmin(window))) * decode.FRAME_S if window.size else start + piece_s
        pieces.append((round(start, 3), round(cut, 3)))
        start = cut
    pieces.append((round(start, 3), round(duration, 3)))
    return pieces


def trim(start: float, end: float, active: np.ndarray) -> tuple[float, float] | None:
    """Narrow [start, end] to its first and last active frame (with PAD_S); None when the span
    holds no active frame at all: nothing was said there."""
    import numpy as np

    lo = max(0, int(start / decode.FRAME_S))
    hi = max(lo + 1, int(np.ceil(end / decode.FRAME_S)))
    span = np.flatnonzero(active[lo:hi])
    if span.size == 0:
        return None
    first = (lo + span[0]) * decode.FRAME_S - PAD_S / 2
    last = (lo + span[-1] + 1) * decode.FRAME_S + PAD_S / 2
    return float(max(start, first)), float(min(end, last))
