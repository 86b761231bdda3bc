"""The readable Markdown body of session.md, regenerated from its front matter on every save."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tacit.records.sessions import Session


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--:--"
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def session_body(session: Session) -> str:
    heading = session.title or session.task or session.id
    lines = [
        f"# {heading}",
        "",
        "<!-- Generated from the front matter above, which is the record; edit it there. -->",
        "",
        f"- Expert: {session.expert}",
        f"- Kind: {session.kind}",
        f"- Status: {session.status}",
        f"- Consent: {_consent(session.consent)}",
    ]
    if session.interviewer:
        lines.append(f"- Interviewer: {session.interviewer}")
    if session.task:
        lines.append(f"- Task: {session.task}")
    if session.guide:
        lines.append(f"- Guide: {session.guide}")
    if session.restricted:
        lines.append("- Restricted: kept out of answers unless asked for explicitly")
    for media in session.media:
        lines.append(f"- Recording: {media.file} (offset {media.offset:g} s)")
    section = None
    for answer in session.answers:
        if answer.section != section:
            section = answer.section
            lines += ["", f"## {section}"]
        if answer.status == "pending":
            lines += ["", f"### {answer.question}", "", "*not asked yet*"]
            continue
        lines += ["", f"### {answer.question}", "", f"*{answer.status} · {clock(answer.at)}*"]
        if answer.text:
            lines += ["", answer.text]
    if session.steps:
        lines += _job_breakdown(session, heading)
    if session.notes:
        lines += ["", "## Notes", "", session.notes]
    return "\n".join(lines) + "\n"


def _consent(consent: dict) -> str:
    status = str(consent.get("status", "not recorded"))
    by = f" by {consent['by']}" if consent.get("by") else ""
    use = f", for {consent['use']}" if consent.get("use") else ""
    return f"{status}{by}{use}"


def _job_breakdown(session: Session, heading: str) -> list[str]:
    """The Training Within Industry breakdown sheet, plus the steps the learner must practise."""
    lines = [
        "",
        f"## Job breakdown: {session.task or heading}",
        "",
        "| # | time | important step | key point | reason | practise |",
        "|---|------|----------------|-----------|--------|----------|",
    ]
    for step in session.steps:
        lines.append(
            f"| {step.n} | {clock(step.at)} | {_cell(step.action)} | {_cell(step.key_point)} "
            f"| {_cell(step.reason)} | {'yes' if step.practise else ''} |"
        )
    practise = [step for step in session.steps if step.practise]
    if practise:
        lines += ["", "### To practise", ""]
        lines += ["Watching does not transfer these; the learner practises each under supervision:"]
        lines += [""] + [f"- Step {step.n}: {step.action}" for step in practise]
    return lines
