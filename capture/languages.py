"""The language a recording is spoken in, and the English rendering of one that is not English.

`settle` runs before the first piece: with --language auto (the default) a multilingual model
listens to the first DETECT_S of speech and the language it hears is used for every piece and
recorded on the transcript (with the detector's confidence). An English-only model never gets
here with another language: engine.check_language refuses it first.

`with_english` runs after the last piece on a non-English transcript: Whisper's translate task
over the same speech, and each English segment goes to the transcript segment whose time it
overlaps most, so it is cited at that segment's second. The segments keep their own
words as the record (Segment.text); the English goes beside them (Segment.english) and is what
the index embeds and searches, since the embedding model understands English only.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.capture import audio, decode
from tacit.capture.engine import AUTO, Transcriber

if TYPE_CHECKING:
    import numpy as np

    from tacit.records.transcript import Segment

DETECT_S = 30.0  # Whisper's detector reads one 30 s window
PAD_S = 0.2
UNDETERMINED = "und"  # ISO 639-2: nothing audible to detect a language in


def settle(transcriber: Transcriber, path: Path, streams: list[tuple[str, Any]]) -> Transcriber:
    """The transcriber with its language fixed: as given, or detected from the speech."""
    if transcriber.language != AUTO:
        return transcriber
    speech = first_speech(path, [active for _speaker, active in streams])
    if speech is None:
        return transcriber.with_language(UNDETERMINED)
    code, probability = transcriber.detect_language(speech)
    return transcriber.with_language(code, probability)


def first_speech(path: Path, actives: list[np.ndarray], seconds: float = DETECT_S):
    """Up to `seconds` of the recording's audible regions (mixed to mono), joined; None when
    nothing is audible. Decodes only as far as it needs to."""
    import numpy as np

    if not actives:
        return None
    heard = np.logical_or.reduce([np.asarray(a, dtype=bool) for a in actives])
    spans, total = [], 0.0
    for start, end in audio.regions(heard, 0.0, len(heard) * decode.FRAME_S):
        take = min(end - start, seconds - total)
        spans.append((start, start + take))
        total += take
        if total >= seconds:
            break
    if not spans:
        return None
    need = round(spans[-1][1] * decode.SAMPLE_RATE)
    blocks, have = [], 0
    for block in decode.decode_blocks(path, 1):
        blocks.append(block[:, 0])
        have += len(block)
        if have >= need:
            break
    samples = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    rate = decode.SAMPLE_RATE
    pieces = [samples[round(a * rate) : round(b * rate)] for a, b in spans]
    return np.ascontiguousarray(np.concatenate(pieces), dtype=np.float32)


def needs_english(language: str) -> bool:
    return language not in ("en", AUTO, UNDETERMINED)


def with_english(transcriber: Transcriber, path: Path, segments: list[Segment]) -> list[Segment]:
    """Each segment of a non-English transcript with its English rendering beside its words."""
    if not segments or not needs_english(transcriber.language):
        return segments
    samples = decode.decode(path, 1)[:, 0]
    # the segments' spans (a little wider: their times are tightened to the audible words),
    # merged into model windows as transcription merges speech: one segment alone per window
    # loses the sentence around it, and measured worse English on the German fixture
    spans = sorted((max(0.0, s.start - PAD_S), s.end + PAD_S) for s in segments)
    rendered = transcriber.translate(samples, audio.clips(spans))
    texts = aligned([(s.start, s.end) for s in segments], rendered)
    return [replace(s, english=text) for s, text in zip(segments, texts, strict=True)]


def aligned(spans: list[tuple[float, float]], rendered: list[Any]) -> list[str]:
    """The English text of each span: every rendered segment goes to the span it overlaps
    most, the nearest one when it overlaps none."""
    texts: list[list[str]] = [[] for _ in spans]
    for seg in rendered:
        if seg.text.strip():
            texts[_best_span(spans, seg.start, seg.end)].append(seg.text.strip())
    return [" ".join(t) for t in texts]


def _best_span(spans: list[tuple[float, float]], start: float, end: float) -> int:
    def fit(i: int) -> tuple[float, float]:
        a, b = spans[i]
        return (min(b, end) - max(a, start), -abs((a + b) / 2 - (start + end) / 2))

    return max(range(len(spans)), key=fit)
