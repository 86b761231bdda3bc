"""Who spoke when in a one-microphone recording: speech regions, voice embeddings, clustering.

1. Speech regions: Silero VAD (the ONNX model that ships with faster-whisper).
2. Voice embeddings: resemblyzer's speaker encoder (its weights ship in the wheel) over
   windows of WINDOW_S slid by HOP_S along the speech only, pauses cut out, so a window holds
   voice and no room tone.
3. Clustering: agglomerative, Ward linkage (scikit-learn). The number of speakers (1 to
   MAX_SPEAKERS) is read from the tree (see `cluster`), unless the caller gives it.
4. Smoothing: each window's label is the majority of its neighbours (SMOOTH windows), then
   turns shorter than MIN_TURN_S join the speaker around them.
Every speech frame (10 ms) then has a speaker; words take the speaker of most of their frames.
All of it runs offline on the CPU, and no audio leaves the machine.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tacit.core.errors import TacitError
from tacit.records.transcript import Segment, Word

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16000
MEL_HOP_S = 0.01  # resemblyzer's mel frames: 10 ms
WINDOW_S, HOP_S = 1.6, 0.4  # measured in benchmarks/diarization.py
# The two groups of the top split, their mean voices' cosine (benchmarks/diarization.py, 23 to
# 425 windows): one espeak voice 0.94-0.98, two voices 0.84-0.91, AMI meetings 0.76-0.92.
ONE_VOICE_FROM = 0.925
JUMP = 1.2  # two voices 1.19-2.07 at k=2; AMI excerpts' first jump at k=2 or 3
MAX_SPEAKERS = 6
SMOOTH = 5  # windows in the majority vote (2 each side)
MIN_TURN_S = 1.0
REGION_MAJORITY = 0.6
MIN_SPEECH_S = 2.0  # less speech than this: one speaker, nothing to compare
METHOD = "silero-vad + resemblyzer 0.1.4 + agglomerative (ward)"


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int  # 0-based, in order of first appearance


@dataclass(frozen=True)
class Result:
    turns: tuple[Turn, ...]
    count: int
    requested: int | None
    centroids: Any = None  # (count, 256) mean voice embedding per speaker, unit length
    speech_s: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)

    def speaker_at(self, start: float, end: float) -> int:
        """The speaker who holds most of [start, end]; the nearest turn's when none does."""
        held: Counter[int] = Counter()
        for turn in self.turns:
            overlap = min(end, turn.end) - max(start, turn.start)
            if overlap > 0:
                held[turn.speaker] += overlap
        if held:
            return held.most_common(1)[0][0]
        if not self.turns:
            return 0
        middle = (start + end) / 2
        return min(self.turns, key=lambda t: max(t.start - middle, middle - t.end, 0.0)).speaker


def check_count(num_speakers: int | None) -> None:
    if num_speakers is not None and not 1 <= num_speakers <= MAX_SPEAKERS:
        raise TacitError(f"--num-speakers must be from 1 to {MAX_SPEAKERS}, not {num_speakers}")


@functools.cache
def encoder():
    """resemblyzer's VoiceEncoder on the CPU, loaded once per process."""
    import warnings

    with warnings.catch_warnings():
        # webrtcvad (a resemblyzer dependency) imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder
    return VoiceEncoder("cpu", verbose=False)


def speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample indexes of speech, by Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=300, speech_pad_ms=60, min_speech_duration_ms=200)
    return [(c["start"], c["end"]) for c in get_speech_timestamps(samples, options)]


def _mels(samples: np.ndarray) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import audio as rz_audio
    wav = rz_audio.normalize_volume(samples, -30, increase_only=True)
    return rz_audio.wav_to_mel_spectrogram(wav)  # (frames, 40), 10 ms frames


def _speech_frames(regions: list[tuple[int, int]], n_frames: int) -> np.ndarray:
    """The mel frame indexes that are speech, in time order."""
    import numpy as np

    hop = round(MEL_HOP_S * SAMPLE_RATE)
    picked = [np.arange(s // hop, min(n_frames, -(-e // hop))) for s, e in regions]
    return np.unique(np.concatenate(picked)) if picked else np.zeros(0, dtype=int)


def embed_windows(mels: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of windows slid along the speech frames; and each window's frame positions
    (start, end) in `frames`."""
    import numpy as np
    import torch

    width, hop = round(WINDOW_S / MEL_HOP_S), round(HOP_S / MEL_HOP_S)
    starts = list(range(0, max(1, len(frames) - width + 1), hop))
    if starts[-1] + width < len(frames):
        starts.append(len(frames) - width)
    spans = np.array([(s, min(s + width, len(frames))) for s in starts])
    batch = np.zeros((len(spans), width, mels.shape[1]), dtype=np.float32)
    for i, (s, e) in enumerate(spans):
        batch[i, : e - s] = mels[frames[s:e]]
    model = encoder()
    out = []
    threads = torch.get_num_threads()
    # one thread: this small LSTM ran 8x faster on one thread than on two on the 2-core
    # machine with other work on it (0.96 against 8.2 s for 425 windows); nothing to share
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            for lo in range(0, len(batch), 64):
                out.append(model(torch.from_numpy(batch[lo : lo + 64])).numpy())
    finally:
        torch.set_num_threads(threads)
    return np.concatenate(out), spans


def cluster(embeddings: np.ndarray, num_speakers: int | None) -> np.ndarray:
    """A label per embedding; the count found from the embeddings unless num_speakers is given.

    Ward agglomerative clustering. One voice when the two groups of the top split are nearly
    the same voice (centroid cosine >= ONE_VOICE_FROM); otherwise the count is where the merge
    distances jump most (the largest ratio of one merge to the next, 2 to MAX_SPEAKERS).
    """
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering

    if len(embeddings) < 4 or num_speakers == 1:
        return np.zeros(len(embeddings), dtype=int)
    tree = AgglomerativeClustering(n_clusters=1, linkage="ward", compute_distances=True)
    merges = tree.fit(embeddings).distances_[::-1]  # the last merge first
    if num_speakers is not None:
        return _cut(embeddings, min(num_speakers, len(embeddings)))
    two = _cut(embeddings, 2)
    first, second = (_unit(embeddings[two == c].mean(axis=0)) for c in (0, 1))
    if float(first @ second) >= ONE_VOICE_FROM:
        return np.zeros(len(embeddings), dtype=int)
    count = 2
    for k in range(2, min(MAX_SPEAKERS, len(merges)) + 1):
        if merges[k - 2] >= JUMP * merges[k - 1]:
            count = k
            break
    return _drop_small(embeddings, _cut(embeddings, count))


def _cut(embeddings: np.ndarray, count: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=count, linkage="ward").fit_predict(embeddings)


def _drop_small(embeddings: np.ndarray, labels: np.ndarray, share: float = 0.05) -> np.ndarray:
    """Clusters of under `share` of the windows (a cough, an overlap) join the nearest one."""
    import numpy as np

    counts = Counter(labels.tolist())
    big = [c for c, n in counts.items() if n >= share * len(labels)] or [
        counts.most_common(1)[0][0]
    ]
    centroids = np.stack([_unit(embeddings[labels == c].mean(axis=0)) for c in big])
    nearest = np.array(big)[np.argmax(embeddings @ centroids.T, axis=1)]
    return np.where(np.isin(labels, big), labels, nearest)


def _unit(v: np.ndarray) -> np.ndarray:
    import numpy as np

    return v / max(float(np.linalg.norm(v)), 1e-9)


def _smooth(labels: np.ndarray) -> np.ndarray:
    import numpy as np

    half = SMOOTH // 2
    out = labels.copy()
    for i in range(len(labels)):
        votes = Counter(labels[max(0, i - half) : i + half + 1].tolist())
        top, n = votes.most_common(1)[0]
        if n > votes[labels[i]]:
            out[i] = top
    return np.asarray(out)


def _frame_labels(frames: np.ndarray, spans: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A label per speech frame: that of the window whose middle is nearest."""
    import numpy as np

    middles = spans.mean(axis=1)
    positions = np.arange(len(frames))
    nearest = np.abs(positions[:, None] - middles[None, :]).argmin(axis=1)
    return labels[nearest]


def _by_region(frames: np.ndarray, labels: np.ndarray, regions) -> np.ndarray:
    """A speech region (between two pauses) held mostly by one speaker is all theirs: windows
    that straddle a pause mix two voices and blur the change, which the pause marks better."""

    hop = round(MEL_HOP_S * SAMPLE_RATE)
    out = labels.copy()
    for start, end in regions:
        inside = (frames >= start // hop) & (frames < -(-end // hop))
        if inside.any():
            top, n = Counter(labels[inside].tolist()).most_common(1)[0]
            if n >= REGION_MAJORITY * inside.sum():
                out[inside] = top
    return out


def _turns(frames: np.ndarray, frame_labels: np.ndarray) -> list[Turn]:
    """Runs of one label in time; a pause longer than a frame ends a run too."""
    turns: list[Turn] = []
    for frame, label in zip(frames.tolist(), frame_labels.tolist(), strict=True):
        start, end = frame * MEL_HOP_S, (frame + 1) * MEL_HOP_S
        last = turns[-1] if turns else None
        if last and last.speaker == label and start - last.end < 0.5:
            turns[-1] = replace(last, end=round(end, 3))
        else:
            turns.append(Turn(round(start, 3), round(end, 3), int(label)))
    return _absorb_short(turns)


def _absorb_short(turns: list[Turn]) -> list[Turn]:
    """A turn shorter than MIN_TURN_S between two of one speaker becomes theirs."""
    changed = True
    while changed:
        changed = False
        for i in range(1, len(turns) - 1):
            short = turns[i].end - turns[i].start < MIN_TURN_S
            if short and turns[i - 1].speaker == turns[i + 1].speaker != turns[i].speaker:
                turns[i] = replace(turns[i], speaker=turns[i - 1].speaker)
                changed = True
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1].speaker == turn.speaker:
            merged[-1] = replace(merged[-1], end=turn.end)
        else:
            merged.append(turn)
    return merged


def _by_appearance(labels: np.ndarray) -> np.ndarray:
    import numpy as np

    order = {old: new for new, old in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[x] for x in labels.tolist()], dtype=int)


def settings() -> dict[str, Any]:
    return {
        "method": METHOD,
        "window_s": WINDOW_S,
        "hop_s": HOP_S,
        "one_voice_from": ONE_VOICE_FROM,
        "jump": JUMP,
        "min_turn_s": MIN_TURN_S,
    }


def diarize(samples: np.ndarray, num_speakers: int | None = None) -> Result:
    """Speaker turns of 16 kHz mono float32 audio."""
    import numpy as np

    check_count(num_speakers)
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    regions = speech_regions(samples)
    speech_s = sum(e - s for s, e in regions) / SAMPLE_RATE
    base = {**settings(), "requested": num_speakers}
    if speech_s < MIN_SPEECH_S:
        turns = tuple(Turn(s / SAMPLE_RATE, e / SAMPLE_RATE, 0) for s, e in regions)
        return Result(turns, 1 if turns else 0, num_speakers, None, speech_s, base)
    mels = _mels(samples)
    frames = _speech_frames(regions, len(mels))
    embeddings, spans = embed_windows(mels, frames)
    labels = _by_appearance(_smooth(cluster(embeddings, num_speakers)))
    turns = _turns(frames, _by_region(frames, _frame_labels(frames, spans, labels), regions))
    used = sorted({t.speaker for t in turns})
    renumber = {old: new for new, old in enumerate(used)}
    turns = [replace(t, speaker=renumber[t.speaker]) for t in turns]
    centroids = np.stack([_unit(embeddings[labels == old].mean(axis=0)) for old in used])
    return Result(tuple(turns), len(used), num_speakers, centroids, speech_s, base)


def voice_of(samples: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray | None:
    """One unit voice embedding of the speech inside `spans` (seconds); None if too little."""
    import numpy as np

    regions = []
    for s, e in speech_regions(np.ascontiguousarray(samples, dtype=np.float32)):
        for lo, hi in spans:
            a, b = max(s, round(lo * SAMPLE_RATE)), min(e, round(hi * SAMPLE_RATE))
            if b > a:
                regions.append((a, b))
    if sum(b - a for a, b in regions) / SAMPLE_RATE < MIN_SPEECH_S:
        return None
    mels = _mels(samples)
    embeddings, _spans = embed_windows(mels, _speech_frames(regions, len(mels)))
    return _unit(embeddings.mean(axis=0))


def assign(segments: list[Segment], result: Result, names: list[str]) -> list[Segment]:
    """Each word gets the speaker of most of its time; segments split where that changes."""
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            out.append(replace(seg, speaker=names[result.speaker_at(seg.start, seg.end)]))
            continue
        runs: list[tuple[str, list[Word]]] = []
        for word in seg.words:
            who = names[result.speaker_at(word.start, max(word.end, word.start + 0.01))]
            if runs and runs[-1][0] == who:
                runs[-1][1].append(word)
            else:
                runs.append((who, [word]))
        if len(runs) == 1:
            out.append(replace(seg, speaker=runs[0][0]))
            continue
        for who, words in runs:
            text = " ".join(w.word for w in words)
            start, end = words[0].start, max(w.end for w in words)
            out.append(Segment(start, end, who, text, tuple(words)))
    return out
