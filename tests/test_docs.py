"""The command reference (docs/commands.md) is generated from the CLI's own help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "commands.md"


def generated_reference() -> str:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.run(
        [sys.executable, "-m", "typer", "tacit.cli", "utils", "docs", "--name", "tacit"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return proc.stdout


def is_current(reference: Path, generated: str) -> bool:
    return reference.is_file() and reference.read_text() == generated


def test_command_reference_is_current():
    generated = generated_reference()
    if os.environ.get("TACIT_REGEN_DOCS"):
        REFERENCE.write_text(generated)
    assert is_current(REFERENCE, generated), "docs/commands.md is stale: run `make docs`"


def test_the_check_fails_when_a_commands_help_changes(tmp_path):
    generated = generated_reference()
    stale = tmp_path / "commands.md"
    stale.write_text(generated.replace("Create a knowledge base", "Make a knowledge base"))
    assert "Create a knowledge base" in generated
    assert not is_current(stale, generated)
