"""Consent: asked before anything else, recorded in the session, required for a recording.

A session's consent is a mapping: status (given | refused | not recorded), by whom, for what
use, and when. Without consent a session may still hold typed notes, but never a recording.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Protocol

from tacit.core.errors import ConsentRequired, TacitError

DEFAULT_USE = "knowledge transfer: kept here and quoted to the people who take over the work"
REFUSALS = ("no", "n", "refused", "none", "withheld")


class Asker(Protocol):
    def ask(self, prompt: str, default: str = "") -> str | None: ...

    def say(self, text: str) -> None: ...


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def given(by: str, use: str) -> dict[str, Any]:
    return {"status": "given", "by": by, "use": use or DEFAULT_USE, "when": _now()}


def refused(by: str) -> dict[str, Any]:
    return {"status": "refused", "by": by, "when": _now()}


def not_recorded() -> dict[str, Any]:
    return {"status": "not recorded"}


def is_given(consent: dict[str, Any]) -> bool:
    return consent.get("status") == "given"


def from_text(text: str, expert_name: str) -> dict[str, Any]:
    """--consent TEXT: the use consented to; 'refused' (or 'no') records a refusal."""
    if text.strip().lower() in REFUSALS:
        return refused(expert_name)
    return given(expert_name, text.strip())


def from_mapping(data: Any, expert_name: str, source: Path) -> dict[str, Any]:
    """The `consent:` mapping of an --answers file: given (yes/no), by, use."""
    if not isinstance(data, dict) or not isinstance(data.get("given"), bool):
        raise TacitError(f"{source}: consent must be a mapping with given: true or false")
    unknown = set(data) - {"given", "by", "use"}
    if unknown:
        raise TacitError(f"{source}: consent has unknown keys: {', '.join(sorted(unknown))}")
    if any(isinstance(data.get(key), list | dict) for key in ("by", "use")):
        raise TacitError(f"{source}: consent's by and use must be text")
    by = str(data.get("by") or expert_name)
    return given(by, str(data.get("use") or "")) if data["given"] else refused(by)


def ask(term: Asker, expert_name: str) -> dict[str, Any]:
    """The interactive consent questions, asked before anything else."""
    term.say(
        f"Consent comes first: {expert_name} should know what is kept and what it is used for."
    )
    while True:
        reply = term.ask(f"Has {expert_name} given consent for this session? [y/n]")
        if reply is None:
            raise TacitError("no answer to the consent question; no session was created")
        choice = reply.strip().lower()
        if choice in ("y", "yes", "n", "no"):
            break
        term.say("please answer y or n")
    by = (term.ask("Given by", default=expert_name) or "").strip() or expert_name
    if choice.startswith("n"):
        return refused(by)
    use = (term.ask("For what use", default=DEFAULT_USE) or "").strip()
    return given(by, use or DEFAULT_USE)


def require_for_recording(consent: dict[str, Any], what: str) -> None:
    if not is_given(consent):
        raise ConsentRequired(
            f"{what} needs the expert's consent, and this session's consent is "
            f"{consent.get('status', 'not recorded')}; typed notes need none",
            hint="record consent with --consent TEXT, or answer y to the consent question",
        )


def set_consent(ws, session_id: str, status: str, by: str | None = None, use: str | None = None):
    """Record consent given, refused or withdrawn, with who and when."""
    from tacit.records import sessions

    session = sessions.get(ws, session_id)
    consent = {
        "status": status,
        "when": _now(),
    }
    if by:
        consent["by"] = by
    if use:
        consent["use"] = use
    history = list(session.consent.get("history") or [])
    previous = {k: v for k, v in session.consent.items() if k != "history"}
    if previous.get("status") != "not recorded":
        history.append(previous)
    if history:
        consent["history"] = history
    return sessions.update(ws, session, consent=consent)


def from_option(text: str | None, expert_name: str) -> dict[str, Any]:
    """--consent TEXT on import or transcribe, as the interviews record it ('refused' or 'no' is
    a refusal: kept and never indexed), or `not recorded` (taken elsewhere; never a reason to
    refuse)."""
    if not text or not text.strip():
        return not_recorded()
    return from_text(text, expert_name)
