"""The silence guard: `tacit transcribe` on two hours of digital silence and of pink noise at
-54 dBFS RMS (and ten minutes of each), made with ffmpeg. Prints wall and CPU seconds and the
segments written; every case must write none. With --model-too, the model is also run on ten
minutes of each with the guard bypassed, to show what the guard keeps out.

.venv/bin/python benchmarks/silence.py [--hours 2] [--model-too]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TACIT = str(Path(sys.executable).with_name("tacit"))
# anoisesrc's amplitude 0.01 of pink noise measures -54.2 dBFS RMS (ffmpeg astats)
SOURCES = {
    "digital silence": "anullsrc=r=16000:cl=mono",
    "pink noise -54 dBFS": "anoisesrc=color=pink:amplitude=0.01:sample_rate=16000:seed=7",
}


def make(folder: Path, name: str, source: str, seconds: float) -> Path:
    path = folder / f"{name.split()[0]}-{seconds:.0f}.flac"  # lossless: the level stays -54
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source, "-t", str(seconds), "-ac", "1",
         "-sample_fmt", "s16", str(path)],
        check=True,
    )  # fmt: skip
    return path


def rms_dbfs(path: Path) -> str:
    done = subprocess.run(
        ["ffmpeg", "-v", "info", "-i", str(path), "-t", "60", "-af",
         "astats=measure_overall=RMS_level:measure_perchannel=none", "-f", "null", "-"],
        capture_output=True, text=True,
    )  # fmt: skip
    level = [
        line.split(":")[-1].strip() for line in done.stderr.splitlines() if "RMS level" in line
    ]
    return f"{float(level[-1]):.1f} dBFS" if level and level[-1] != "-inf" else "-inf dBFS"


def transcribe(kb: Path, path: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the child, segments) of one `tacit transcribe` run."""
    env = {**os.environ, "TACIT_KB": str(kb)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [TACIT, "transcribe", str(path), "--expert", "maria-lopez", "--json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(done.stdout)["segments"]


def unguarded(path: Path) -> tuple[float, int, list[str]]:
    """The model on the whole recording, the guard bypassed: (wall s, segments, texts)."""
    from tacit.capture import decode, engine
    from tacit.core import config

    options = engine.options_from_config(config.default_config())
    model = engine.FasterWhisper(options)
    import numpy as np

    samples = np.concatenate(list(decode.decode_blocks(path, 1)))[:, 0]
    started = time.perf_counter()
    heard = model.transcribe(np.ascontiguousarray(samples), None)
    return time.perf_counter() - started, len(heard), sorted({h.text for h in heard})[:5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--model-too", action="store_true")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is not installed; run `make setup`")
    print(f"load average before: {os.getloadavg()[0]:.2f}; cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kb = folder / "kb"
        subprocess.run([TACIT, "init", str(kb)], check=True, capture_output=True)
        env = {**os.environ, "TACIT_KB": str(kb)}
        subprocess.run([TACIT, "expert", "add", "Maria Lopez"], check=True, env=env,
                       capture_output=True)  # fmt: skip
        for seconds in (600.0, args.hours * 3600):
            for name, source in SOURCES.items():
                path = make(folder, name, source, seconds)
                wall, cpu, segments = transcribe(kb, path)
                print(
                    f"{name:20s} {seconds / 60:6.0f} min ({rms_dbfs(path)}): "
                    f"{segments} segments, {wall:6.1f} s wall, {cpu:6.1f} s CPU "
                    f"({seconds / wall:,.0f}x real time)"
                )
                if args.model_too and seconds == 600.0:
                    took, count, texts = unguarded(path)
                    print(f"{'':20s} without the guard: {count} segments {texts} in {took:.0f} s")
                path.unlink()


if __name__ == "__main__":
    main()
