"""The end-to-end path of `make demo`, on the bundled sample, with the real models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_demo_runs_the_whole_story_on_the_sample(tmp_path):
    demo_kb = tmp_path / "demo-kb"
    env = {**os.environ, "TACIT_DEMO_KB": str(demo_kb), "COLUMNS": "120", "TACIT_KB": ""}
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    # 1: answered from the recording, cited at the second the expert said it
    recording_answer = out.split("# answered by the recording")[1].split("# answered by")[0]
    assert "Maria Lopez · 00:02:0" in recording_answer and "turbidity" in recording_answer
    # 2: answered from the typed notes only
    notes_answer = out.split("# answered by the typed notes")[1].split("# not captured")[0]
    assert "blue cabinet" in notes_answer
    # 3: not captured, and it lands on the expert's agenda
    assert "does not hold an answer" in out.split("# not captured yet")[1]
    agenda = subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "tacit.cli",
            "run",
            "--kb",
            str(demo_kb),
            "expert",
            "agenda",
            "maria-lopez",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "standby generator" in agenda.stdout
    assert "Who knows: chlorine dosing" in out and "Maria Lopez" in out
    html = demo_kb / "packs" / "new-shift-lead" / "build" / "pack.html"
    assert html.is_file() and str(html) in out
    page = html.read_text()
    assert "standby generator" in page and "#t=" in page  # a gap, and cited media links
    summary = json.loads((html.parent / "summary.json").read_text())
    assert summary
