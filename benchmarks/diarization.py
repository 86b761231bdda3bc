"""Who said it: the share of words given the right speaker, speakers found against true, and
the time diarization adds to transcription, per file.

    .venv/bin/python benchmarks/diarization.py [--no-ami] [--voices]

Recordings: tests/fixtures/audio/two_voices.flac (mono, two espeak voices; truth from the order
of its sentences), interview_stereo.m4a and examples/sample/interview.ogg mixed to mono (truth
from their channels and turns.json), and the nine 30 s AMI meeting excerpts in
../shared/eval/diarization (far-field, 1-4 speakers; truth from train.rttm; skipped with a
message when that folder is absent). A word is scored when exactly one reference speaker covers
its middle, after the best one-to-one mapping of found speakers to true ones. Transcription
time is the whole pipeline with --diarize off; diarization time is decoding, speech regions,
embeddings, clustering and the word assignment (models loaded first, not counted). Both are
given as wall time and as this process's CPU time: other work on the machine moves the first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AUDIO = REPO / "tests" / "fixtures" / "audio"
SAMPLE = REPO / "examples" / "sample"
AMI = REPO.parent / "shared" / "eval" / "diarization"


def _regions(samples, gap: float = 0.5) -> list[tuple[float, float]]:
    from tacit.capture import diarize

    found: list[tuple[float, float]] = []
    for s, e in diarize.speech_regions(samples):
        s, e = s / diarize.SAMPLE_RATE, e / diarize.SAMPLE_RATE
        if found and s - found[-1][1] < gap:
            found[-1] = (found[-1][0], e)
        else:
            found.append((s, e))
    return found


def two_voices_truth(path: Path) -> list[tuple[float, float, str]]:
    """Its four sentences alternate voice A, B, A, B (tests/fixtures/make_audio.sh)."""
    from tacit.capture import decode

    regions = _regions(decode.decode(path, 1)[:, 0])
    if len(regions) != 4:
        raise SystemExit(f"{path.name}: expected 4 sentences, found {len(regions)}")
    return [(s, e, "AB"[i % 2]) for i, (s, e) in enumerate(regions)]


def channel_truth(path: Path) -> list[tuple[float, float, str]]:
    """Each channel's speech is its own speaker's (the fixture has no crosstalk)."""
    import numpy as np

    from tacit.capture import decode

    both = decode.decode(path, 2)
    return [
        (s, e, f"channel {c + 1}")
        for c in (0, 1)
        for s, e in _regions(np.ascontiguousarray(both[:, c]))
    ]


def sample_truth() -> list[tuple[float, float, str]]:
    turns = json.loads((SAMPLE / "turns.json").read_text(encoding="utf-8"))["turns"]
    return [(t["start"], t["end"], t["speaker"]) for t in turns]


def ami_truth() -> dict[str, list[tuple[float, float, str]]]:
    truth: dict[str, list[tuple[float, float, str]]] = {}
    for line in (AMI / "train.rttm").read_text(encoding="utf-8").splitlines():
        part = line.split()
        start, length = float(part[3]), float(part[4])
        truth.setdefault(part[1], []).append((start, start + length, part[7]))
    return truth


def score(segments, truth) -> tuple[float, int, int]:
    """(share of scored words right after the best mapping, words scored, true speakers)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    true_names = sorted({who for _s, _e, who in truth})
    found_names = sorted({seg.speaker for seg in segments})
    pairs = []
    for seg in segments:
        for word in seg.words:
            middle = (word.start + word.end) / 2
            covering = {who for s, e, who in truth if s <= middle < e}
            if len(covering) == 1:
                pairs.append((found_names.index(seg.speaker), true_names.index(covering.pop())))
    if not pairs:
        return float("nan"), 0, len(true_names)
    size = max(len(found_names), len(true_names))
    counts = np.zeros((size, size))
    for found, true in pairs:
        counts[found, true] += 1
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(pairs)), len(pairs), len(true_names)


def transcribe(ws, path: Path):
    from tacit.capture import pipeline
    from tacit.capture import transcribe as core

    request = core.Request(
        target=str(path),
        expert="bench",
        title=f"{path.stem}-{time.time_ns()}",
        run=pipeline.RunOptions(channels="mix", diarize="off"),
    )
    started, cpu = time.perf_counter(), time.process_time()
    done = None
    for event in core.transcribe(ws, request):
        done = event
    elapsed = (time.perf_counter() - started, time.process_time() - cpu)
    media_path = ws.session_dir(done.session_id) / done.transcript.media_file
    return done, media_path, elapsed


def bench_one(ws, name: str, path: Path, truth) -> dict:
    from tacit.capture import pipeline

    done, media_path, (transcribe_s, transcribe_cpu) = transcribe(ws, path)
    started, cpu = time.perf_counter(), time.process_time()
    segments, record = pipeline.find_speakers(
        media_path, list(done.transcript.segments), pipeline.RunOptions()
    )
    diarize_s, diarize_cpu = time.perf_counter() - started, time.process_time() - cpu
    shutil.rmtree(ws.session_dir(done.session_id))
    right, scored, true_count = score(segments, truth)
    return {
        "file": name,
        "audio_s": round(done.transcript.duration, 1),
        "words_right": round(right, 3),
        "words_scored": scored,
        "found": record["found"],
        "true": true_count,
        "transcribe_rtf": round(transcribe_s / done.transcript.duration, 3),
        "diarize_rtf": round(diarize_s / done.transcript.duration, 3),
        "added": round(diarize_s / transcribe_s, 2),
        "added_cpu": round(diarize_cpu / transcribe_cpu, 2),
        "cpu_s": (round(transcribe_cpu, 2), round(diarize_cpu, 2)),
    }


def warm_up(ws) -> None:
    """Load Whisper, Silero and the voice encoder once, outside the timings."""
    from tacit.capture import decode, diarize

    transcribe(ws, AUDIO / "vocabulary.ogg")
    diarize.diarize(decode.decode(AUDIO / "two_voices.flac", 1)[:, 0])


def recordings(with_ami: bool) -> list[tuple[str, Path, list]]:
    found = [
        ("two_voices.flac", AUDIO / "two_voices.flac", two_voices_truth(AUDIO / "two_voices.flac")),
        ("interview_stereo.m4a (mixed)", AUDIO / "interview_stereo.m4a",
         channel_truth(AUDIO / "interview_stereo.m4a")),
        ("sample interview.ogg (mixed)", SAMPLE / "interview.ogg", sample_truth()),
    ]  # fmt: skip
    if with_ami and (AMI / "train.rttm").is_file():
        truth = ami_truth()
        found += [(f"AMI {p.stem}", p, truth[p.stem]) for p in sorted(AMI.glob("trn*.wav"))]
    elif with_ami:
        print(f"AMI excerpts not found at {AMI}: skipped (they live outside the project)")
    return found


def summary(rows: list[dict], label: str) -> str:
    scored = sum(r["words_scored"] for r in rows)
    right = sum(r["words_right"] * r["words_scored"] for r in rows if r["words_scored"])
    counts = sum(r["found"] == r["true"] for r in rows)
    added = sum(r["diarize_rtf"] * r["audio_s"] for r in rows) / max(
        1e-9, sum(r["transcribe_rtf"] * r["audio_s"] for r in rows)
    )
    added_cpu = sum(r["cpu_s"][1] for r in rows) / max(1e-9, sum(r["cpu_s"][0] for r in rows))
    return (
        f"{label}: {right / max(scored, 1):.3f} of {scored} words right (pooled), "
        f"right count in {counts}/{len(rows)}, diarization adds {added:.0%} to transcription "
        f"(wall), {added_cpu:.0%} (this process's CPU time, less moved by other work)"
    )


OTHER_VOICES = ["en-gb+f3", "en-us+f4", "en-gb-scotland+m2"]
OTHER_TEXT = "The night crew checks the boiler pressure twice a shift. Nobody told me why."


def voice_figures() -> None:
    """Cosine of each found speaker's mean voice to profiles of the two voices of
    two_voices.flac (A: en-us+m3, B: en-gb+f2): the same voices elsewhere, and other voices."""
    import subprocess

    from tacit.capture import decode, diarize

    truth = two_voices_truth(AUDIO / "two_voices.flac")
    samples = decode.decode(AUDIO / "two_voices.flac", 1)[:, 0]
    profile = {
        who: diarize.voice_of(samples, [(s, e) for s, e, w in truth if w == who]) for who in "AB"
    }
    print(f"profiles A.B cosine {float(profile['A'] @ profile['B']):.3f}")
    heard = [("vocabulary.ogg (B)", AUDIO / "vocabulary.ogg"),
             ("long_silence.ogg (A then B)", AUDIO / "long_silence.ogg"),
             ("stranger.ogg (en-us+m7)", AUDIO / "stranger.ogg")]  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        for voice in OTHER_VOICES:
            out = Path(scratch) / f"{voice}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), OTHER_TEXT],
                           check=True)  # fmt: skip
            heard.append((f"espeak {voice}", out))
        for name, path in heard:
            result = diarize.diarize(decode.decode(path, 1)[:, 0])
            for centroid in result.centroids:
                a, b = float(centroid @ profile["A"]), float(centroid @ profile["B"])
                print(f"{name}: speaker to A {a:.3f}, to B {b:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-ami", action="store_true", help="Only the two-person recordings.")
    parser.add_argument("--voices", action="store_true", help="Voice profile similarities only.")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.voices:
        voice_figures()
        return
    from tacit.core import config, workspace
    from tacit.records import experts

    with tempfile.TemporaryDirectory() as scratch:
        kb = Path(scratch) / "kb"
        experts.add(workspace.init(kb, "bench"), "Bench")
        ws = workspace.Workspace(root=kb, config=config.load(kb / config.CONFIG_NAME))
        warm_up(ws)
        rows = [bench_one(ws, *recording) for recording in recordings(not args.no_ami)]
    print(" | ".join(rows[0]))
    for row in rows:
        print(" | ".join(str(v) for v in row.values()))
    print(summary([r for r in rows if not r["file"].startswith("AMI")], "two-person"))
    ami = [r for r in rows if r["file"].startswith("AMI")]
    if ami:
        print(summary(ami, "AMI excerpts"))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
