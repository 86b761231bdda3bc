"""Crash safety of a transcription killed with SIGKILL, and private permissions on every file
that a whole flow creates."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from tacit.capture import importer
from tacit.core.fileio import read_front_matter
from tacit.records import media, sessions
from tacit.records import transcript as tr

FIXTURES = Path(__file__).parent / "fixtures"

CHILD = """
import sys
from pathlib import Path
from tacit.core import config, workspace
from tacit.capture import engine, pipeline
root = Path(sys.argv[1])
ws = workspace.Workspace(root, config.load(root / "tacit.toml"))
real = engine.FasterWhisper(engine.options_from_config(ws.config))
for event in pipeline.run(ws, sys.argv[2], real, pipeline.RunOptions(piece_s=7.0)):
    pass
print("finished", flush=True)
"""


def _every_file_parses(root: Path) -> None:
    for path in root.rglob("*"):
        if path.name in ("session.md", "pack.md") or path.parent.name == "experts":
            read_front_matter(path)
        elif path.suffix == ".json" and path.is_file():
            json.loads(path.read_text())


def test_sigkill_during_transcription_then_rerun_finishes(kb, run):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    session = sessions.create(kb, "maria-lopez", "interview", "killed")
    media.attach(kb, session, FIXTURES / "audio" / "two_voices.flac", (0.0, "default"))
    checkpoint = kb.session_dir(session.id) / importer.CHECKPOINT_NAME
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(kb.root), session.id], stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        if checkpoint.is_file() and json.loads(checkpoint.read_text() or "{}").get("done"):
            break
        time.sleep(0.05)
    assert child.poll() is None, "the transcription ended before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    _every_file_parses(kb.root)
    assert not tr.path(kb, session.id).exists()
    assert sessions.get(kb, session.id).media  # the recording it was given is still there

    again = subprocess.run(
        [sys.executable, "-c", CHILD, str(kb.root), session.id],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "finished" in again.stdout
    transcript = tr.load(tr.path(kb, session.id))
    assert transcript.segments and not checkpoint.exists()
    _every_file_parses(kb.root)


def _modes(root: Path) -> dict[str, int]:
    found = {str(root): stat.S_IMODE(root.stat().st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_every_file_a_whole_flow_creates_is_private(kb, run, tmp_path):
    previous = os.umask(0o022)  # a permissive umask, as on many machines: tacit must not rely on it
    try:
        _whole_flow(kb, run, tmp_path)
    finally:
        os.umask(previous)


def _whole_flow(kb, run, tmp_path):
    steps = [
        ("expert", "add", "Maria Lopez", "--role", "Shift lead", "--topic", "pumps"),
        (
            "import",
            FIXTURES / "transcripts" / "meeting.vtt",
            "--expert",
            "maria-lopez",
            "--consent",
            "training",
        ),
        (
            "observe",
            "start",
            "--expert",
            "maria-lopez",
            "--task",
            "Bleed the loop",
            "--answers",
            FIXTURES.parent.parent / "examples" / "sample" / "observation.yaml",
        ),
        ("index",),
        ("ask", "what should I check first?"),
        (
            "pack",
            "new",
            "starter",
            "--role",
            "Operator",
            "--protege",
            "Sam",
            "--mentor",
            "Priya",
            "--start",
            "2027-01-04",
            "--weeks",
            "4",
            "--expert",
            "maria-lopez",
        ),
        ("pack", "build", "starter"),
        ("report", "--html"),
        ("backup", tmp_path / "kb.tar.gz"),
    ]
    for args in steps:
        result = run(*args)
        assert result.exit_code == 0, (args, result)
    modes = _modes(kb.root)
    wrong = {
        path: oct(mode)
        for path, mode in modes.items()
        if mode != (0o700 if (kb.root / path).is_dir() else 0o600)
    }
    assert not wrong
    assert any("chroma.sqlite3" in p for p in modes) and any("lexical" in p for p in modes)
    assert stat.S_IMODE((tmp_path / "kb.tar.gz").stat().st_mode) == 0o600
