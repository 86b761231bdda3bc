"""Full-size restore under `kill -9`: a KB of about 700 MB of recordings is backed up, then
`tacit restore` is killed at several moments (timers here, on purpose: this is the attack's
setting; tests/test_faults.py uses named fault points on small archives). After each kill the
target must not exist (no KB-looking half folder) and the next restore must succeed.

    python benchmarks/restore_crash.py [--mb 700] [--kills 0.6,1.0,1.5,2.0] [--dir DIR]

The recordings are random bytes (not audio): restore checks hashes, it never decodes media.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _tacit(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from tacit.cli import main; main()", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _make_kb(root: Path, megabytes: int) -> None:
    from tacit.core import workspace
    from tacit.index import synthetic
    from tacit.records import sessions
    from tacit.records.sessions import Media

    ws = workspace.init(root, "restore benchmark")
    per_session = 50
    for n in range(max(1, megabytes // per_session)):
        session = synthetic.write_session(ws, "maria-lopez", f"talk-{n}", [("Ana", "Hello.")])
        media = ws.session_dir(session.id) / "media" / "recording.m4a"
        media.parent.mkdir(mode=0o700, exist_ok=True)
        with open(media, "wb") as out:
            for _ in range(per_session):
                out.write(os.urandom(1 << 20))
        sessions.update(
            ws, session, media=(Media("media/recording.m4a", sessions.sha256_of(media)),)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=700)
    parser.add_argument("--kills", default="0.6,1.0,1.5,2.0")
    parser.add_argument("--dir", type=Path, default=None)
    options = parser.parse_args()
    work = options.dir or Path(tempfile.mkdtemp(prefix="tacit-restore-"))
    work.mkdir(parents=True, exist_ok=True)
    kb, archive, target = work / "kb", work / "kb.tar.gz", work / "restored"
    env = {**os.environ, "TACIT_KB": str(kb), "ANONYMIZED_TELEMETRY": "False"}
    if not archive.exists():
        started = time.monotonic()
        _make_kb(kb, options.mb)
        backup = _tacit("backup", str(archive), env=env)
        backup.wait()
        print(f"made a {options.mb} MB KB and its backup in {time.monotonic() - started:.1f} s")
    full = time.monotonic()
    proc = _tacit("restore", str(archive), str(target), env=env)
    proc.wait()
    print(f"uninterrupted restore: {time.monotonic() - full:.1f} s (exit {proc.returncode})")
    shutil.rmtree(target, ignore_errors=True)
    failures = 0
    for delay in (float(x) for x in options.kills.split(",")):
        proc = _tacit("restore", str(archive), str(target), env=env)
        time.sleep(delay)
        if proc.poll() is not None:
            print(f"killed at {delay:.1f} s: the restore had already finished; skipped")
            shutil.rmtree(target, ignore_errors=True)
            continue
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        half = not target.exists()
        again = _tacit("restore", str(archive), str(target), env=env)
        again.wait()
        ok = half and again.returncode == 0 and (target / "tacit.toml").is_file()
        leftovers = list(work.glob(".restored.restoring-*"))
        print(
            f"killed at {delay:.1f} s: target absent after the kill: {half}; "
            f"next restore exit {again.returncode}; leftovers {len(leftovers)}; "
            f"{'ok' if ok else 'FAILED'}"
        )
        failures += not ok
        shutil.rmtree(target, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
