"""Fault injection for the crash tests: `TACIT_FAULT=forget:after-store-delete` makes the
process kill itself (SIGKILL, as a power cut or `kill -9` would) when it reaches that step.

Named steps, not timers, so a test reproduces the same half-done state every time. Several
steps may be given, comma-separated; unset (the normal case) each point costs one lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "TACIT_FAULT"


def point(step: str) -> None:
    """Die here when $TACIT_FAULT names this step."""
    wanted = os.environ.get(ENV)
    if wanted and step in (s.strip() for s in wanted.split(",")):
        os.kill(os.getpid(), signal.SIGKILL)
