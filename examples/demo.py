"""`make demo`: the whole story on the bundled sample, in a fresh demo knowledge base."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KB = Path(os.environ.get("TACIT_DEMO_KB", HERE.parent / "demo-kb"))
TACIT = str(Path(sys.executable).with_name("tacit"))


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def tacit(*args: str) -> str:
    print(f"$ tacit {' '.join(args)}", flush=True)
    result = subprocess.run([TACIT, "--kb", str(KB), *args], stdout=subprocess.PIPE, text=True)
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        sys.exit(f"demo step failed: tacit {' '.join(args)} (exit {result.returncode})")
    return result.stdout.strip()


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if KB.exists():
        shutil.rmtree(KB)  # re-runnable: the demo KB is always made fresh
    step("A knowledge base")
    subprocess.run([TACIT, "init", str(KB), "--name", "Plant ops demo"], check=True)
    step("An expert who is leaving")
    tacit("expert", "add", "Maria Lopez", "--role", "Shift lead", "--team", "Pumping",
          "--leaving-on", "2027-01-29", "--position-risk", "5", "--topic", "pumps",
          "--topic", "alarms")
    step("Health check")
    tacit("doctor")
    print(f"\ndemo knowledge base: {KB}")


if __name__ == "__main__":
    main()
