"""`make demo`: the whole story on the bundled sample, in a fresh demo knowledge base.

KM staff add the expert who is leaving, run the exit interview from an answers file with its
recording, log an observation; the recording is transcribed and everything indexed; a protégé
asks three questions (one answered by the recording, one by the typed notes, one not captured);
who-knows and risk show who holds what; a coach builds the onboarding pack.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "sample"
KB = Path(os.environ.get("TACIT_DEMO_KB", HERE.parent / "demo-kb"))
TACIT = str(Path(sys.executable).with_name("tacit"))
QUESTIONS = (
    ("answered by the recording", "Which alarms can I ignore?"),
    ("answered by the typed notes", "Where is the spare impeller for P-101?"),
    ("not captured yet", "What do I do if the standby generator fails to start in a power cut?"),
)


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def tacit(*args: str) -> str:
    """Run one tacit command as a user would; its progress bars go straight to the terminal."""
    print(f"$ tacit {' '.join(shlex.quote(a) for a in args)}", flush=True)
    result = subprocess.run([TACIT, "--kb", str(KB), *args], stdout=subprocess.PIPE, text=True)
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        sys.exit(f"demo step failed: tacit {' '.join(args)} (exit {result.returncode})")
    return result.stdout.strip()


def pack_topics(pack_md: Path) -> None:
    """The coach's edit: the sample's own topics replace the template's starting points."""
    wanted = [
        line.split(":", 1)
        for line in (SAMPLE / "pack-topics.txt").read_text().splitlines()
        if line.strip()
    ]
    topics = "\n".join(f"- [{week.strip()}] {question.strip()}" for week, question in wanted)
    text = pack_md.read_text()
    head, rest = text.split("## Topics", 1)
    _, tail = re.split(r"\n(?=## )", rest, maxsplit=1)
    pack_md.write_text(f"{head}## Topics\n\n{topics}\n\n{tail}")


def main() -> None:
    started = time.monotonic()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    # tacit's output is piped through this script: tell it the real terminal's width
    os.environ.setdefault("COLUMNS", str(max(shutil.get_terminal_size((120, 40)).columns, 100)))
    if KB.exists():
        shutil.rmtree(KB)  # re-runnable: the demo KB is made fresh every time
    step("KM staff: a knowledge base and the expert who is leaving")
    subprocess.run(
        [TACIT, "init", str(KB), "--name", "Riverside water treatment works"], check=True
    )
    tacit("expert", "add", *shlex.split((SAMPLE / "expert.txt").read_text()))

    step("KM staff: the exit interview, from typed notes and its two-channel recording")
    interview = tacit(
        "interview",
        "start",
        "--expert",
        "maria-lopez",
        "--guide",
        "exit-interview",
        "--answers",
        str(SAMPLE / "interview-answers.yaml"),
        "--recording",
        str(SAMPLE / "interview.ogg"),
        "--offset",
        "0",
    )
    tacit(
        "observe",
        "start",
        "--expert",
        "maria-lopez",
        "--task",
        "Changing the chlorine analyser reagent",
        "--answers",
        str(SAMPLE / "observation.yaml"),
    )

    step("Transcribe the recording (interviewer on the left channel, expert on the right)")
    tacit("transcribe", interview, "--speaker", "Priya Shah", "--speaker", "Maria Lopez")

    step("Index everything that was captured")
    tacit("index")

    step("Protégé: three questions")
    for what, question in QUESTIONS:
        print(f"\n# {what}")
        tacit("ask", question)

    step("Who knows about chlorine dosing? Who is most at risk of leaving with it?")
    tacit("who-knows", "chlorine dosing")
    tacit("risk")

    step("Coach: an onboarding pack for the new shift lead")
    pack_md = Path(
        tacit(
            "pack",
            "new",
            "new-shift-lead",
            "--role",
            "Shift lead",
            "--protege",
            "Sam Patel",
            "--mentor",
            "Priya Shah",
            "--start",
            "2027-01-04",
            "--weeks",
            "4",
            "--expert",
            "maria-lopez",
        ).splitlines()[0]
    )
    pack_topics(pack_md)
    built = tacit("pack", "build", "new-shift-lead")
    html = next(line for line in built.splitlines() if line.endswith(".html"))
    print(f"\nThe pack, ready to print or open in a browser: {html}")
    print(f"demo finished in {time.monotonic() - started:.0f} s; knowledge base: {KB}")


if __name__ == "__main__":
    main()
