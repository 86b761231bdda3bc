"""Fault injection for the crash tests: `TACIT_FAULT=forget:after-store-delete` makes the
process kill itself (SIGKILL, as a power cut or `kill -9` would) when it reaches that step.

Named steps, not timers, so a test reproduces the same half-done state every time. Several
steps may be given, comma-separated; unset (the normal case) each point costs one lookup.
`STEP=pause:PATH` instead creates PATH on reaching the step and waits there until the test
removes it: the test changes the world at that exact moment (say, stops a Chroma server).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ENV = "TACIT_FAULT"


def point(step: str) -> None:
    """Die (or pause) here when $TACIT_FAULT names this step."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    for entry in (s.strip() for s in wanted.split(",")):
        name, _, action = entry.partition("=")
        if name != step:
            continue
        if action.startswith("pause:"):
            _pause(Path(action[len("pause:") :]))
        else:
            os.kill(os.getpid(), signal.SIGKILL)


def _pause(flag: Path) -> None:
    flag.write_text(str(os.getpid()))
    while flag.exists():
        time.sleep(0.05)
