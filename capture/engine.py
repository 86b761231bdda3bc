"""Speech to text behind a small Protocol; the faster-whisper engine that implements it.

faster_whisper and ctranslate2 are imported inside the functions that use them, and a loaded
model is cached per (model, device, compute type, threads): loading costs more than a short clip.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tacit.core import model_paths
from tacit.core.config import Config
from tacit.core.errors import TacitError
from tacit.records.transcript import Word

if TYPE_CHECKING:
    import numpy as np

# faster-whisper 1.2.1's own defaults for WhisperModel.transcribe, for comparison (benchmark).
DEFAULT_DECODING: dict[str, Any] = {
    "beam_size": 5,
    "word_timestamps": False,
    "condition_on_previous_text": True,
    "vad_filter": False,
}
# tacit's settings, each measured in benchmarks/transcribe.py (the fixtures plus a 167 s
# generated recording, 233 s in all; WER pooled over every word): faster-whisper's defaults
# WER 0.060 at 0.045 CPU-s per audio s; tacit greedy 0.055 at 0.044; tacit with beam 5 0.050
# at 0.052. Greedy is kept: no worse than the defaults, and cheaper than beam 5.
# - word timestamps: every segment is tightened to its words, so a citation points at speech;
# - no conditioning on previous text: one misheard window cannot feed the next (repetition
#   loops); the temperature fallback stays on for the same reason;
# - vad_filter off: with it, segments stretched across the 20 s pauses (19.5 s of segment time
#   inside pauses on long_silence.ogg, against 0 for tacit); the issue also measured it 2-4x
#   slower on a real 166 s recording (on these espeak fixtures it cost about the same). Long
#   pauses are kept from the model by clip_timestamps from our own levels instead.
TACIT_DECODING: dict[str, Any] = {
    "beam_size": 1,
    "word_timestamps": True,
    "condition_on_previous_text": False,
    "vad_filter": False,
}


@dataclass(frozen=True)
class Recognized:
    """One segment as the engine heard it; times are seconds from the start of the audio given."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0


class Transcriber(Protocol):
    """Anything that turns 16 kHz mono float32 audio into segments."""

    @property
    def model_name(self) -> str: ...

    @property
    def settings(self) -> dict[str, Any]: ...

    @property
    def language(self) -> str: ...

    def transcribe(
        self, audio: np.ndarray, clips: list[tuple[float, float]] | None = None
    ) -> list[Recognized]:
        """Transcribe `audio`; when `clips` is given, only those (start, end) spans of it."""
        ...


@dataclass(frozen=True)
class EngineOptions:
    model: str  # a CTranslate2 Whisper folder (resolved) or a cached model name
    device: str = "cpu"
    compute_type: str = "int8"
    threads: int = 2
    language: str = "en"
    hotwords: str = ""
    decoding: dict[str, Any] = field(default_factory=lambda: dict(TACIT_DECODING))


def cuda_devices() -> int:
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # noqa: BLE001  (a broken CUDA install reads as: no GPU)
        return 0


def resolve_device(requested: str) -> str:
    """cpu, cuda or auto -> cpu or cuda; cuda without a GPU is a clear error, not a crash."""
    if requested not in ("cpu", "cuda", "auto"):
        raise TacitError(f"device must be cpu, cuda or auto, not {requested!r}")
    if requested == "cpu":
        return "cpu"
    count = cuda_devices()
    if requested == "auto":
        return "cuda" if count else "cpu"
    if count == 0:
        raise TacitError(
            "--device cuda: CTranslate2 sees no CUDA GPU on this machine; use --device cpu"
        )
    return "cuda"


def options_from_config(
    config: Config,
    model: str | None = None,
    device: str | None = None,
    language: str | None = None,
) -> EngineOptions:
    settings = config.models
    chosen_device = resolve_device(device or settings["device"])
    compute_type = settings["compute_type"]
    if chosen_device == "cuda" and compute_type == "int8":
        compute_type = "int8_float16"  # int8 weights, float16 activations: the GPU's fast path
    return EngineOptions(
        model=model_paths.resolve_speech_model(model_paths.speech_model(config, model)),
        device=chosen_device,
        compute_type=compute_type,
        threads=model_paths.threads(config),
        language=language or settings["language"] or "en",
        hotwords=vocabulary_prompt(settings["vocabulary"]),
    )


# The vocabulary goes to Whisper as hotwords (a prompt on every window), framed as a sentence.
# Measured on vocabulary.ogg, 7 names and part terms (benchmarks/transcribe.py --vocabulary):
# no vocabulary 2/7 terms right, WER 0.46; a bare comma list 2/7, WER 0.92 (tiny.en goes on
# with the list instead of transcribing); this sentence 5/7, WER 0.19.
VOCABULARY_PROMPT = "Names and terms used here: {terms}."


def vocabulary_prompt(terms: list[str]) -> str:
    cleaned = [str(t).strip() for t in terms if str(t).strip()]
    return VOCABULARY_PROMPT.format(terms=", ".join(cleaned)) if cleaned else ""


def load_model(options: EngineOptions) -> Any:
    """The WhisperModel for these options, loaded once per process."""
    return _whisper(options.model, options.device, options.compute_type, options.threads)


@functools.cache
def _whisper(model: str, device: str, compute_type: str, threads: int) -> Any:
    model_paths.offline()
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            model,
            device=device,
            compute_type=compute_type,
            cpu_threads=threads,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise TacitError(f"cannot load speech model {model}: {exc}") from None


class FasterWhisper:
    """The Transcriber backed by faster-whisper (Whisper on CTranslate2)."""

    def __init__(self, options: EngineOptions):
        self.options = options

    @property
    def model_name(self) -> str:
        return self.options.model

    @property
    def language(self) -> str:
        return self.options.language

    @property
    def settings(self) -> dict[str, Any]:
        record = asdict(self.options)
        record.pop("model")
        return {**record.pop("decoding"), **record}

    def transcribe(
        self, audio: np.ndarray, clips: list[tuple[float, float]] | None = None
    ) -> list[Recognized]:
        if clips is not None and not clips:
            return []  # nothing but silence: the model never sees it
        kwargs: dict[str, Any] = dict(self.options.decoding)
        if clips is not None:
            kwargs["clip_timestamps"] = [t for clip in clips for t in clip]
        if self.options.hotwords:
            kwargs["hotwords"] = self.options.hotwords
        model = load_model(self.options)
        segments, _info = model.transcribe(audio, language=self.options.language, **kwargs)
        return [_recognized(s) for s in segments]


def _recognized(segment: Any) -> Recognized:
    words = tuple(
        Word(
            start=round(float(w.start), 3),
            end=round(float(w.end), 3),
            word=str(w.word).strip(),
            probability=round(float(w.probability), 3),
        )
        for w in segment.words or ()
    )
    return Recognized(
        start=float(segment.start),
        end=float(segment.end),
        text=str(segment.text).strip(),
        words=words,
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
        compression_ratio=float(segment.compression_ratio),
    )
