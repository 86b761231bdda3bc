"""Speech to text behind a small Protocol; the faster-whisper engine that implements it.

faster_whisper and ctranslate2 are imported inside the functions that use them, and a loaded
model is cached per (model, device, compute type, threads): loading costs more than a short clip.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tacit.core import model_paths, speech_models
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


# The English rendering of a non-English session (Whisper's translate task). Measured on the
# German fixture with base: with TACIT_DECODING the greedy English fails Whisper's log-prob
# test and falls back through every temperature (6 decoder calls, 6.9 s for 25 s, and worse
# English); without fallback 1.2 s. Word times are not needed: the English is aligned to the
# original segments by their spans.
TRANSLATE_DECODING: dict[str, Any] = {
    "beam_size": 5,
    "temperature": 0.0,
    "word_timestamps": False,
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

    # used only for a non-English or undetected language (capture/languages)
    def detect_language(self, audio: np.ndarray) -> tuple[str, float]: ...

    def with_language(self, code: str, probability: float = 0.0) -> Transcriber: ...

    def translate(
        self, audio: np.ndarray, clips: list[tuple[float, float]] | None = None
    ) -> list[Recognized]: ...


AUTO = "auto"  # --language auto: a multilingual model finds the language (capture/languages)


@dataclass(frozen=True)
class EngineOptions:
    model: str  # a CTranslate2 Whisper folder (resolved) or a cached model name
    device: str = "cpu"
    compute_type: str = "int8"
    threads: int = 2
    language: str = "en"  # a Whisper language code, or AUTO until it is detected
    hotwords: str = ""
    decoding: dict[str, Any] = field(default_factory=lambda: dict(TACIT_DECODING))
    vocabulary_as: str = "prompt"  # prompt (each clip's first window) | hotwords (every window)
    label: str = ""  # the model as the transcript records it (tiny.en, base); "" = the folder
    language_probability: float = 0.0  # the detector's confidence, when it was detected


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
    vocabulary: list[str] | None = None,
) -> EngineOptions:
    """`vocabulary`: the terms for this recording (the KB's and its expert's, see
    capture/terms.vocabulary_for); None takes [models] vocabulary alone."""
    settings = config.models
    chosen_device = resolve_device(device or settings["device"])
    compute_type = settings["compute_type"]
    if chosen_device == "cuda" and compute_type == "int8":
        compute_type = "int8_float16"  # int8 weights, float16 activations: the GPU's fast path
    chosen = model_paths.speech_model(config, model)
    folder = model_paths.resolve_speech_model(chosen)
    known = speech_models.KNOWN.get(chosen)
    return EngineOptions(
        model=folder,
        device=chosen_device,
        compute_type=compute_type,
        threads=model_paths.threads(config),
        language=check_language(
            language or settings["language"] or AUTO,
            speech_models.multilingual_folder(Path(folder)),
            chosen,
        ),
        hotwords=vocabulary_prompt(settings["vocabulary"] if vocabulary is None else vocabulary),
        label=f"{known.name} ({known.pips[0].split('==')[0]})" if known else "",
    )


def check_language(code: str, multilingual: bool | None, model: str) -> str:
    """A language Whisper knows, that this model can hear; AUTO stays AUTO only where a
    multilingual model can detect it (an English-only model hears English).

    faster-whisper itself answers a non-English language on an English-only model with a
    warning, then transcribes the sounds as English words (gibberish tagged with the language
    asked for): refused here instead, before any file is written."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    code = code.strip().lower()
    if code == AUTO:
        return AUTO if multilingual is not False else "en"
    if code not in _LANGUAGE_CODES:
        raise TacitError(
            f"--language {code!r} is not a language Whisper knows; give a code such as "
            "en, de, fr, es, or auto"
        )
    if code != "en" and multilingual is False:
        name = Path(model).name or model
        raise TacitError(
            f"{name} is an English-only speech model: it cannot transcribe {code!r} (it would "
            "write English words for the sounds); install a multilingual one with "
            "`tacit models install base` and add --model base"
        )
    return code


# The vocabulary goes to Whisper as a prompt on the first window of each clip (initial_prompt, one
# call per clip), framed as a sentence; a bare comma list made tiny.en go on with the list (2/7
# terms, WER 0.92 on vocabulary.ogg; 3.1-3.7x the time as hotwords). It went as hotwords, a prompt
# on every window: with word times, a window that ends mid-clip makes faster-whisper seek to the
# last word and decode the rest as a new window, and there the prompted model can run to the
# 224-token limit and through the temperature fallback (3.9x on the fixtures without clips). A
# clip's later windows now decode unprompted. benchmarks/transcribe.py, all fixtures (load
# 1.3-1.6, CPU time against tacit without vocabulary): tiny.en 0.91x, 5/7 terms (2/7 without), WER
# 0.087 (0.093); hotwords 0.96x here, 1.86x without clips; base 1.11x, 4/7.
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
        return self.options.label or self.options.model

    @property
    def language(self) -> str:
        return self.options.language

    @property
    def settings(self) -> dict[str, Any]:
        record = asdict(self.options)
        record.pop("model")
        record.pop("label")
        if not record["language_probability"]:
            record.pop("language_probability")  # given, not detected
        return {**record.pop("decoding"), **record}

    @property
    def multilingual(self) -> bool:
        return bool(load_model(self.options).model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The language spoken in (up to 30 s of) speech, and the model's confidence."""
        code, probability, _all = load_model(self.options).detect_language(audio)
        return str(code), float(probability)

    def with_language(self, code: str, probability: float = 0.0) -> FasterWhisper:
        return FasterWhisper(
            replace(self.options, language=code, language_probability=round(probability, 3))
        )

    def translate(
        self, audio: np.ndarray, clips: list[tuple[float, float]] | None = None
    ) -> list[Recognized]:
        """Whisper's translate task on the same audio: English segments, timed like
        transcribe's. No word times (only segment spans are aligned) and no vocabulary."""
        if clips is not None and not clips:
            return []
        kwargs: dict[str, Any] = dict(TRANSLATE_DECODING)
        if clips is not None:
            kwargs["clip_timestamps"] = [t for clip in clips for t in clip]
        model = load_model(self.options)
        segments, _info = model.transcribe(
            audio, language=self.options.language, task="translate", **kwargs
        )
        return [_recognized(s) for s in segments]

    def transcribe(
        self, audio: np.ndarray, clips: list[tuple[float, float]] | None = None
    ) -> list[Recognized]:
        if clips is not None and not clips:
            return []  # nothing but silence: the model never sees it
        kwargs: dict[str, Any] = dict(self.options.decoding)
        calls: list[list[tuple[float, float]] | None] = [clips]
        if self.options.hotwords and self.options.vocabulary_as == "hotwords":
            kwargs["hotwords"] = self.options.hotwords
        elif self.options.hotwords:  # the prompt primes the first window of each call
            kwargs["initial_prompt"] = self.options.hotwords
            calls = [[clip] for clip in clips] if clips else [None]
        model = load_model(self.options)
        heard: list[Recognized] = []
        for group in calls:
            if group is not None:
                kwargs["clip_timestamps"] = [t for clip in group for t in clip]
            segments, _info = model.transcribe(audio, language=self.options.language, **kwargs)
            heard += [_recognized(s) for s in segments]
        return heard


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
