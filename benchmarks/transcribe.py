"""Transcription speed (real-time factor) and accuracy (word error rate) per speech model:
faster-whisper's defaults against tacit's settings, without and with the vocabulary (given as
tacit gives it, and as hotwords on every window as before), side by side in one run, on speech
with known text; then, for each multilingual model, the German fixture (detection, WER, the
English rendering).

    .venv/bin/python benchmarks/transcribe.py [--models tiny.en,base,small] [--model PATH]
                    [--device cpu|cuda] [--threads N] [--skip-long] [--all] [--channels]

Fixtures: tests/fixtures/audio/*.{flac,m4a,ogg} (text in the .txt beside each), plus a longer
recording built here from espeak-ng sentences and pauses (~2.8 min, two 20 s pauses; not
committed). RTF = processing seconds / audio seconds, model load excluded (warmed up first).
A model that is not installed (or, like small, cannot be) is named with the reason and skipped.
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
    "We clean the filter every three days, and twice a week in summer.",
]
NUMBER_WORDS = ("three", "twice")  # said as words: a model that writes "3." loses them
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
        if not self.utterances:
            return []
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
    for name in ("vocabulary.ogg", "stranger.ogg"):  # no layout: no pause figures
        path = AUDIO / name
        found.append(Fixture(name, path, _reference(path), _duration(path)))
    return found


def _say(text: str, voice: str, out: Path) -> None:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", raw, text], check=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", raw, "-ar", "16000", "-ac", "1", out],
        check=True,
    )


def long_fixture(folder: Path) -> Fixture:
    """~170 s: 26 sentences, two voices, pauses of 0.6-2 s and two of 20 s (room tone)."""
    import numpy as np

    rng = np.random.default_rng(3)
    layout: list = []
    for i in range(26):
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
    done = run_tacit_done(options, fixture, kb, **decoding)
    segments = [
        {"start": s.start, "end": s.end, "text": s.text,
         "words": [(w.start, w.end) for w in s.words]}
        for s in done.transcript.segments
    ]  # fmt: skip
    if segments:
        segments[0]["dropped"] = len(done.dropped)  # what the guard removed, counted once
    return segments


def run_tacit_done(options: engine.EngineOptions, fixture: Fixture, kb: Path, **decoding):
    """The pipeline's Done event (its transcript) for one fixture; its session removed."""
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
    return done


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


TERMS = ["Kowalczyk", "glycol", "Brennan", "Hollister", "Nordquist", "Siobhan", "Zeitner",
         "suction valve", "boiler", "shift lead"]  # fmt: skip
# label: (plain faster-whisper or the tacit pipeline, decoding, how the vocabulary is given)
_PROMPT = engine.vocabulary_prompt(TERMS)
CONTENDERS = {
    "faster-whisper defaults (beam 5, no word times)": ("plain", dict(engine.DEFAULT_DECODING), ""),
    "tacit (greedy, word times, clips, guard)": ("tacit", {}, ""),
    "tacit + vocabulary: prompt per clip (tacit)": ("tacit", {}, "prompt"),
    "tacit + vocabulary: hotwords every window": ("tacit", {}, "hotwords"),
    "tacit + vocabulary: prompt once per call": ("tacit", {"initial_prompt": _PROMPT}, ""),
    # the same decoding without tacit's clips, on the whole file: where hotwords cost most
    "greedy + word times, no tacit pipeline": ("plain", dict(engine.TACIT_DECODING), ""),
    "  the same + hotwords every window": (
        "plain",
        {**engine.TACIT_DECODING, "hotwords": _PROMPT},
        "",
    ),
    "  the same + prompt (first window only)": (
        "plain",
        {**engine.TACIT_DECODING, "initial_prompt": _PROMPT},
        "",
    ),
}
MORE_CONTENDERS = {  # --all
    "defaults + vad_filter": ("plain", {**engine.DEFAULT_DECODING, "vad_filter": True}, ""),
    "tacit, beam 5": ("tacit", {"beam_size": 5}, ""),
}


def _with_vocabulary(options: engine.EngineOptions, way: str) -> engine.EngineOptions:
    import dataclasses

    prompt = engine.vocabulary_prompt(TERMS) if way else ""
    return dataclasses.replace(options, hotwords=prompt, vocabulary_as=way or "prompt")


def _terms_right(fixtures: list[Fixture], hypotheses: list[str]) -> int:
    """vocabulary.ogg's names heard right (of the 7 it says)."""
    for fixture, text in zip(fixtures, hypotheses, strict=True):
        if fixture.name == "vocabulary.ogg":
            return sum(t.lower() in text.lower() for t in TERMS if t in fixture.reference)
    return -1


def _numbers_as_words(fixtures: list[Fixture], hypotheses: list[str]) -> str:
    said = heard = 0
    for fixture, text in zip(fixtures, hypotheses, strict=True):
        for word in NUMBER_WORDS:
            said += normalise(fixture.reference).split().count(word)
            heard += min(normalise(text).split().count(word),
                         normalise(fixture.reference).split().count(word))  # fmt: skip
    return f"{heard}/{said}"


def bench(options: engine.EngineOptions, fixtures: list[Fixture], kb: Path,
          contenders: dict) -> list[dict]:  # fmt: skip
    rows = []
    for label, (kind, decoding, way) in contenders.items():
        opts = _with_vocabulary(options, way)
        total_s = total_cpu = total_audio = 0.0
        per, hypotheses = {}, []
        for fixture in fixtures:
            began, cpu = time.perf_counter(), cpu_seconds()
            if kind == "plain":
                segments = run_plain(opts, fixture, **decoding)
            else:
                segments = run_tacit(opts, fixture, kb, **decoding)
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
                "terms": _terms_right(fixtures, hypotheses),
                "numbers": _numbers_as_words(fixtures, hypotheses),
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
    _load()


def _load() -> None:
    print(
        f"\nload average while running: {os.getloadavg()[0]:.1f} "
        f"({os.cpu_count()} cores): wall-clock RTF is only clean near 0"
    )


def print_ladder(ladder: dict[str, list[dict]]) -> None:
    """Every model's rows together; each ratio is against the same model's tacit row."""
    print("\nthe model ladder (all fixtures; vocabulary: 7 names of vocabulary.ogg + 3 terms)")
    print(f"  {'model':8s} {'contender':48s} {'RTF':>6s} {'CPU RTF':>7s} {'x tacit':>7s} "
          f"{'WER':>6s} {'terms':>5s} {'3 as word':>9s}")  # fmt: skip
    for name, rows in ladder.items():
        base = next(r["cpu_rtf"] for r in rows if r["contender"].startswith("tacit ("))
        for r in rows:
            if r["contender"].startswith("greedy"):
                base = r["cpu_rtf"]  # the plain rows: against plain greedy
            print(f"  {name:8s} {r['contender']:48s} {r['rtf']:6.3f} {r['cpu_rtf']:7.3f} "
                  f"{r['cpu_rtf'] / base:7.2f} {r['wer']:6.3f} {r['terms']:3d}/7 "
                  f"{r['numbers']:>9s}")  # fmt: skip
    _load()


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


def normalise_any(text: str) -> str:
    """normalise() for any language: letters of every script and digits are kept."""
    text = re.sub(r"[^\w' ]+|_", " ", text.lower().replace("-", " "))
    return " ".join(text.split())


def german_figures(name: str, options: engine.EngineOptions, kb: Path) -> dict:
    """german.ogg: the language found, WER against the German text, RTF; faster-whisper's
    defaults (language detection, beam 5) beside tacit (detection, then the English rendering)."""
    import dataclasses

    import jiwer

    fixture = AUDIO / "german.ogg"
    reference, duration = normalise_any(_reference(fixture)), _duration(fixture)
    model = engine.load_model(options)
    if not model.model.is_multilingual:  # refused, as tacit refuses it
        try:
            engine.check_language("de", False, name)
        except TacitError as exc:
            return {"model": name, "refused": exc.message}
    began = time.perf_counter()
    segments, info = model.transcribe(str(fixture), language=None, **engine.DEFAULT_DECODING)
    text = " ".join(s.text for s in segments)
    plain = {"language": info.language, "probability": round(info.language_probability, 3),
             "wer": jiwer.wer(reference, normalise_any(text)),
             "rtf": (time.perf_counter() - began) / duration}  # fmt: skip
    began = time.perf_counter()
    done = run_tacit_done(dataclasses.replace(options, language=engine.AUTO),
                          Fixture("german.ogg", fixture, "", duration), kb)  # fmt: skip
    spent = time.perf_counter() - began
    said = " ".join(s.text for s in done.transcript.segments)
    heard = done.transcript.segments
    from tacit.capture import languages

    began = time.perf_counter()  # the English rendering again, alone: its share of the time
    languages.with_english(engine.FasterWhisper(dataclasses.replace(options, language="de")),
                           fixture, list(heard))  # fmt: skip
    english_s = time.perf_counter() - began
    tacit = {"language": done.transcript.language,
             "probability": done.transcript.settings.get("language_probability"),
             "wer": jiwer.wer(reference, normalise_any(said)), "rtf": spent / duration,
             "english_rtf": english_s / duration,
             "english": [(round(s.start, 2), s.english) for s in heard]}  # fmt: skip
    return {"model": name, "defaults": plain, "tacit": tacit}


def print_german(rows: list[dict]) -> None:
    print("\ngerman.ogg (3 German sentences, espeak-ng de+m3, 12.3 s): found, WER, RTF")
    for row in rows:
        if "refused" in row:
            print(f"  {row['model']:8s} refused: {row['refused']}")
            continue
        for label in ("defaults", "tacit"):
            r = row[label]
            print(
                f"  {row['model']:8s} {label:9s} language {r['language']} "
                f"(p {r['probability']})  WER {r['wer']:.3f}  RTF {r['rtf']:.3f}"
                + (
                    f"  (with detection and the English rendering, which alone takes RTF "
                    f"{r['english_rtf']:.3f})"
                    if label == "tacit"
                    else ""
                )
            )
        for start, english in row["tacit"]["english"]:
            print(f"  {'':8s} English at {start:5.2f} s: {english}")


def _reference(path: Path) -> str:
    text = path.with_suffix(".txt").read_text(encoding="utf-8")
    return " ".join(re.sub(r"^SPEAKER_\d+: ", "", text, flags=re.MULTILINE).split())


def _models(args) -> list[str]:
    from tacit.core import speech_models

    if args.model:
        return [args.model]
    names = args.models.split(",") if args.models else list(speech_models.KNOWN)
    usable = []
    for name in names:
        known = speech_models.KNOWN.get(name)
        if known is not None and (known.refused or not speech_models.installed(known)):
            why = known.refused or f"not installed (tacit models install {name})"
            print(f"{name}: skipped: {why}")
        else:
            usable.append(name)
    return usable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--models", default="", help="known names, comma-separated; default all")
    parser.add_argument("--model", default=None, help="one CTranslate2 Whisper folder instead")
    parser.add_argument("--threads", type=int, default=0, help="0: all cores")
    parser.add_argument("--skip-long", action="store_true", help="only the committed fixtures")
    parser.add_argument("--all", action="store_true", help="also vad_filter, greedy, beam 5")
    parser.add_argument("--channels", action="store_true", help="also the channel figures")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args()
    model_paths.offline()
    cfg = config.default_config()
    cfg.data["models"]["threads"] = args.threads
    contenders = {**CONTENDERS, **(MORE_CONTENDERS if args.all else {})}
    ladder, german = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        fixtures = committed_fixtures(Path(tmp))
        if not args.skip_long:
            fixtures.append(long_fixture(Path(tmp)))
        for name in _models(args):
            try:
                options = engine.options_from_config(cfg, model=name, device=args.device,
                                                     language="en")  # fmt: skip
            except TacitError as exc:
                raise SystemExit(f"error: {exc.message}") from None
            print(f"\n=== {name}: {options.model}\ndevice {options.device} "
                  f"{options.compute_type}, {options.threads} threads")  # fmt: skip
            run_plain(options, fixtures[0], **engine.TACIT_DECODING)  # warm-up: load the model
            ladder[name] = bench(options, fixtures, Path(tmp) / "kb", contenders)
            print_rows(ladder[name], fixtures)
            german.append(german_figures(name, options, Path(tmp) / "kb"))
    print_ladder(ladder)
    print_german(german)
    if args.channels:
        channel_figures()
    if args.json:
        print(json.dumps({"ladder": ladder, "german": german}, indent=1))


if __name__ == "__main__":
    main()
