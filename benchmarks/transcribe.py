"""Transcription speed (real-time factor) and accuracy (word error rate): faster-whisper's
defaults against tacit's settings, side by side in one run, on speech with known text.

    .venv/bin/python benchmarks/transcribe.py [--device cpu|cuda] [--model PATH|NAME]
                                              [--threads N] [--skip-long] [--channels]

Fixtures: tests/fixtures/audio/*.{flac,m4a,ogg} (text in the .txt beside each), plus a longer
recording built here from espeak-ng sentences and pauses (~2.7 min, two 20 s pauses; not
committed). RTF = processing seconds / audio seconds, model load excluded (warmed up first).
"Words in pauses" counts words whose middle falls in a known pause (hallucinated or smeared);
"overrun" is how far segment ends reach past the speech they belong to.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tacit.capture import engine
from tacit.core import config, model_paths, workspace
from tacit.core.errors import TacitError

REPO = Path(__file__).resolve().parent.parent
AUDIO = REPO / "tests" / "fixtures" / "audio"

SENTENCES = [
    "Before you start the pump, check that the suction valve is fully open.",
    "If the pressure drops suddenly, shut the line down and call the shift lead.",
    "Why do you clean the filter every morning?",
    "Because the old seals leak when the water gets too cold.",
    "The cooling loop runs warm in summer, so we open the second fan early.",
    "Nobody wrote down how to restart the boiler after a power cut.",
    "You listen for a knocking sound in the return pipe before you touch anything.",
    "The alarm panel lies when the sensor cable gets wet.",
    "We always test the backup generator on the first Monday of the month.",
    "Ask the night crew about the valve that sticks near the loading bay.",
    "Write the reading in the log book, even when it looks normal.",
    "The spare parts are kept in the blue cabinet behind the control room.",
]
VOICES = ["en-us+m3", "en-gb+f2"]


Q1 = "What do you check first when the alarm goes off?"
A1 = "I look at the tank level, then I walk down to the boiler room."
Q2, A2 = "Who taught you that?", "My old supervisor, many years ago."
# What tests/fixtures/make_audio.sh puts in each committed fixture: (text, voice) or a pause (s)
LAYOUTS = {
    "two_voices.flac": [(SENTENCES[0], 0), 0.8, (SENTENCES[1], 1), 0.8, (SENTENCES[2], 0), 0.8,
                        (SENTENCES[3], 1)],
    "interview_stereo.m4a": [(Q1, 0), 0.6, (A1, 1), 0.6, (Q2, 0), 0.6, (A2, 1), 0.6],
    "long_silence.ogg": [(SENTENCES[0], 0), 20.0, (SENTENCES[3], 1), 5.0],
}  # fmt: skip


@dataclass
class Fixture:
    name: str
    path: Path
    reference: str
    duration: float
    utterances: list[tuple[float, float]] = field(default_factory=list)  # speech (s)

    def pauses(self, at_least: float) -> list[tuple[float, float]]:
        """Gaps between utterances of at least this long, 0.25 s in from either side."""
        gaps = zip([0.0] + [e for _, e in self.utterances], [s for s, _ in self.utterances]
                   + [self.duration], strict=True)  # fmt: skip
        return [(a + 0.25, b - 0.25) for a, b in gaps if b - a >= at_least]


def normalise(text: str) -> str:
    text = re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " "))
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(normalise(reference), normalise(hypothesis) or "<empty>")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg): unlike wall time, it
    hardly moves when other work shares the machine."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.strip())


def _utterances(layout: list, folder: Path, build: bool) -> tuple[list, list[Path]]:
    """Speech intervals of a layout, from the length of each spoken sentence; and its files."""
    spans, files, t = [], [], 0.0
    for n, item in enumerate(layout):
        path = folder / f"{n}.wav"
        if isinstance(item, float):
            if build:
                _tone(path, item)
            t += item
        else:
            _say(item[0], VOICES[item[1]], path)
            spans.append((t, t + _duration(path)))
            t = spans[-1][1]
        files.append(path)
    return spans, files


def committed_fixtures(folder: Path) -> list[Fixture]:
    found = []
    for name, layout in LAYOUTS.items():
        path = AUDIO / name
        spans, _ = _utterances(layout, folder, build=False)
        text = " ".join(item[0] for item in layout if not isinstance(item, float))
        found.append(Fixture(name, path, text, _duration(path), spans))
    return found


def _say(text: str, voice: str, out: Path) -> None:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", raw, text], check=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", raw, "-ar", "16000", "-ac", "1", out],
        check=True,
    )


def long_fixture(folder: Path) -> Fixture:
    """~165 s: 24 sentences, two voices, pauses of 0.6-2 s and two of 20 s (room tone)."""
    import numpy as np

    rng = np.random.default_rng(3)
    layout: list = []
    for i in range(24):
        layout.append((SENTENCES[i % len(SENTENCES)], i % 2))
        layout.append(20.0 if i in (7, 15) else round(float(rng.uniform(0.6, 2.0)), 2))
    spans, files = _utterances(layout, folder, build=True)
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in files))
    out = folder / "long.flac"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", listing,
         "-c:a", "flac", out], check=True,
    )  # fmt: skip
    text = " ".join(item[0] for item in layout if not isinstance(item, float))
    return Fixture("long_generated.flac", out, text, _duration(out), spans)


def _tone(path: Path, seconds: float) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         "anoisesrc=r=16000:a=0.002:c=pink:seed=7", "-t", f"{seconds:.3f}", path], check=True,
    )  # fmt: skip


# ------------------------------------------------------------------ the contenders


def run_plain(options: engine.EngineOptions, fixture: Fixture, **decoding) -> list[dict]:
    """faster-whisper on the file, as its README calls it, with the given settings."""
    model = engine.load_model(options)
    segments, _ = model.transcribe(str(fixture.path), language="en", **decoding)
    return [
        {"start": s.start, "end": s.end, "text": s.text,
         "words": [(w.start, w.end) for w in (s.words or [])]}
        for s in segments
    ]  # fmt: skip


def run_tacit(options: engine.EngineOptions, fixture: Fixture, kb: Path, **decoding) -> list[dict]:
    """The whole tacit pipeline (scan, pieces, clips, guard, files written) on a scratch KB."""
    import shutil

    from tacit.capture import transcribe
    from tacit.records import experts

    if not kb.exists():
        experts.add(workspace.init(kb, "bench"), "Bench")
    ws = workspace.Workspace(root=kb, config=config.load(kb / config.CONFIG_NAME))
    opts = engine.EngineOptions(
        **{**options.__dict__, "decoding": {**options.decoding, **decoding}}
    )
    request = transcribe.Request(
        target=str(fixture.path), expert="bench", title=f"{fixture.name}-{time.time_ns()}"
    )
    done = None
    for event in transcribe.transcribe(ws, request, engine.FasterWhisper(opts)):
        done = event
    # the same recording again must make a new session: remove this one
    shutil.rmtree(ws.session_dir(done.session_id))
    segments = [
        {"start": s.start, "end": s.end, "text": s.text,
         "words": [(w.start, w.end) for w in s.words]}
        for s in done.transcript.segments
    ]  # fmt: skip
    if segments:
        segments[0]["dropped"] = len(done.dropped)  # what the guard removed, counted once
    return segments


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def score(fixture: Fixture, segments: list[dict]) -> dict:
    """WER; words heard in long pauses; segments spanning one; segment seconds in any pause."""
    text = " ".join(s["text"] for s in segments)
    long_pauses, pauses = fixture.pauses(3.0), fixture.pauses(0.5)
    words = [w for s in segments for w in (s["words"] or [(s["start"], s["end"])])]
    middles = [(a + b) / 2 for a, b in words]
    spans = [(s["start"], s["end"]) for s in segments]
    return {
        "wer": wer(fixture.reference, text),
        "in_pause": sum(1 for m in middles if any(lo <= m <= hi for lo, hi in long_pauses)),
        "spanning": sum(1 for a, b in spans for lo, hi in long_pauses if a < lo and b > hi),
        "pause_s": sum(_overlap(span, pause) for span in spans for pause in pauses),
        "dropped": sum(s.get("dropped", 0) for s in segments),
    }


CONTENDERS = {
    "faster-whisper defaults (beam 5, no word times)": ("plain", dict(engine.DEFAULT_DECODING)),
    "defaults + vad_filter": ("plain", {**engine.DEFAULT_DECODING, "vad_filter": True}),
    "greedy + word times, no tacit pipeline": ("plain", dict(engine.TACIT_DECODING)),
    "tacit, beam 5": ("tacit", {"beam_size": 5}),
    "tacit (greedy, word times, clips, guard)": ("tacit", {}),
}


def bench(options: engine.EngineOptions, fixtures: list[Fixture], kb: Path) -> list[dict]:
    rows = []
    for label, (kind, decoding) in CONTENDERS.items():
        total_s = total_cpu = total_audio = 0.0
        per, hypotheses = {}, []
        for fixture in fixtures:
            began, cpu = time.perf_counter(), cpu_seconds()
            if kind == "plain":
                segments = run_plain(options, fixture, **decoding)
            else:
                segments = run_tacit(options, fixture, kb, **decoding)
            spent, cpu = time.perf_counter() - began, cpu_seconds() - cpu
            total_s, total_cpu = total_s + spent, total_cpu + cpu
            total_audio += fixture.duration
            hypotheses.append(" ".join(s["text"] for s in segments))
            per[fixture.name] = {
                **score(fixture, segments),
                "rtf": spent / fixture.duration,
                "cpu_rtf": cpu / fixture.duration,
            }
        pooled = wer(" ".join(f.reference for f in fixtures), " ".join(hypotheses))
        rows.append(
            {
                "contender": label,
                "rtf": total_s / total_audio,
                "cpu_rtf": total_cpu / total_audio,
                "wer": pooled,
                "fixtures": per,
            }
        )
    return rows


def print_rows(rows: list[dict], fixtures: list[Fixture]) -> None:
    for fixture in fixtures:
        print(f"\n{fixture.name} ({fixture.duration:.1f} s audio)")
        print(f"  {'contender':48s} {'RTF':>6s} {'CPU RTF':>7s} {'WER':>6s} {'pause words':>11s} "
              f"{'spanning':>8s} {'s in pauses':>11s} {'dropped':>7s}")  # fmt: skip
        for row in rows:
            f = row["fixtures"][fixture.name]
            print(f"  {row['contender']:48s} {f['rtf']:6.3f} {f['cpu_rtf']:7.3f} {f['wer']:6.3f} "
                  f"{f['in_pause']:11d} {f['spanning']:8d} {f['pause_s']:11.2f} "
                  f"{f['dropped']:7d}")  # fmt: skip
    print("\nall fixtures together (WER pooled over every reference word)")
    for row in rows:
        print(f"  {row['contender']:48s} RTF {row['rtf']:.3f}  CPU RTF {row['cpu_rtf']:.3f}  "
              f"WER {row['wer']:.3f}")  # fmt: skip
    print(
        f"\nload average while running: {os.getloadavg()[0]:.1f} "
        f"({os.cpu_count()} cores): wall-clock RTF is only clean near 0"
    )


def channel_figures() -> None:
    """Envelope correlation of two channels, for the auto split threshold (audio.SPLIT_BELOW)."""
    from tacit.capture import audio
    from tacit.records import media

    stereo, mono = AUDIO / "interview_stereo.m4a", AUDIO / "two_voices.flac"
    variants = {
        "separate speakers (fixture)": (stereo, None),
        "separate, -20 dB crosstalk": (stereo, "pan=stereo|c0=c0+0.1*c1|c1=c1+0.1*c0"),
        "separate, -12 dB crosstalk": (stereo, "pan=stereo|c0=c0+0.25*c1|c1=c1+0.25*c0"),
        "separate, -6 dB crosstalk": (stereo, "pan=stereo|c0=c0+0.5*c1|c1=c1+0.5*c0"),
        "room stereo (2 ms, -4 dB)": (mono, "asplit[a][b];[b]adelay=2,volume=0.6[d];"
                                            "[a][d]join=inputs=2:channel_layout=stereo"),
        "same signal on both": (mono, "pan=stereo|c0=c0|c1=c0"),
    }  # fmt: skip
    print(f"\nchannel similarity (split below {audio.SPLIT_BELOW})")
    with tempfile.TemporaryDirectory() as tmp:
        for label, (source, graph) in variants.items():
            path = source
            if graph:
                path = Path(tmp) / "v.wav"
                flag = "-filter_complex" if "[" in graph else "-af"
                subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", source, flag,
                                graph, path], check=True)  # fmt: skip
            found = audio.scan(media.probe(path))
            decision = "split" if found.similarity < audio.SPLIT_BELOW else "mix"
            print(f"  {label:32s} {found.similarity:6.3f}  -> {decision}")


VOCABULARY = ["Kowalczyk", "glycol", "Brennan", "Hollister", "Nordquist", "Siobhan", "Zeitner"]


def vocabulary_figures(options: engine.EngineOptions) -> None:
    """How the vocabulary is best given to Whisper: none, a bare list, or a framing sentence."""
    import dataclasses

    fixture = AUDIO / "vocabulary.ogg"
    ref = _reference(fixture)
    ways = {
        "no vocabulary": "",
        "hotwords: bare list": ", ".join(VOCABULARY),
        "hotwords: sentence (tacit)": engine.vocabulary_prompt(VOCABULARY),
    }
    print("\nvocabulary.ogg: 7 names and terms (tacit.toml [models] vocabulary)")
    for label, hotwords in ways.items():
        opts = dataclasses.replace(options, hotwords=hotwords)
        model = engine.load_model(opts)
        kwargs = {"hotwords": hotwords} if hotwords else {}
        segments, _ = model.transcribe(str(fixture), language="en", **engine.TACIT_DECODING,
                                       **kwargs)  # fmt: skip
        text = " ".join(s.text for s in segments)
        hits = sum(t.lower() in text.lower() and t in ref for t in VOCABULARY)
        leaks = sum(text.lower().count(t.lower()) > ref.count(t) for t in VOCABULARY)
        print(f"  {label:30s} terms right {hits}/7  written where not said {leaks}  "
              f"WER {wer(ref, text):.3f}")  # fmt: skip


def _reference(path: Path) -> str:
    return " ".join(path.with_suffix(".txt").read_text().split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--model", default=None, help="CTranslate2 Whisper folder or name")
    parser.add_argument("--threads", type=int, default=0, help="0: all cores")
    parser.add_argument("--skip-long", action="store_true", help="only the committed fixtures")
    parser.add_argument("--channels", action="store_true", help="also the channel figures")
    parser.add_argument("--vocabulary", action="store_true", help="also the vocabulary figures")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args()
    model_paths.offline()
    cfg = config.default_config()
    cfg.data["models"]["threads"] = args.threads
    try:
        options = engine.options_from_config(cfg, model=args.model, device=args.device)
    except TacitError as exc:
        raise SystemExit(f"error: {exc.message}") from None
    print(f"model {options.model}\ndevice {options.device} "
          f"{options.compute_type}, {options.threads} threads")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        fixtures = committed_fixtures(Path(tmp))
        if not args.skip_long:
            fixtures.append(long_fixture(Path(tmp)))
        run_plain(options, fixtures[0], **engine.TACIT_DECODING)  # warm-up: load the model
        rows = bench(options, fixtures, Path(tmp) / "kb")
    print_rows(rows, fixtures)
    if args.channels:
        channel_figures()
    if args.vocabulary:
        vocabulary_figures(options)
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
