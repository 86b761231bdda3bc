"""The KM report: risk, coverage, protégé demand, packs and their checkpoints, as Markdown."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from tacit.fileio import atomic_write
from tacit.htmlrender import escape_md, markdown_to_html, page
from tacit.interviews import risk
from tacit.workspace import Workspace


@dataclass(frozen=True)
class Demand:
    asked: int
    answered: int
    not_captured: tuple[str, ...]

    @property
    def share_answered(self) -> float:
        return round(self.answered / self.asked, 3) if self.asked else 0.0


def protege_demand(ws: Workspace) -> Demand:
    asked = answered = 0
    missing: list[str] = []
    if ws.questions_log.is_file():
        for line in ws.questions_log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(entry, dict):
                continue
            asked += 1
            if entry.get("not_captured"):
                missing.append(str(entry.get("question", "")))
            else:
                answered += 1
    return Demand(asked, answered, tuple(missing))


def _pack_lines(ws: Workspace) -> list[str]:
    try:
        from tacit.packs import checkpoints
    except ImportError:
        return ["No packs yet."]
    lines: list[str] = []
    for status in checkpoints.all_status(ws):
        lines.append(f"### {escape_md(status.name)}")
        lines.append("")
        lines.append("| checkpoint | week | due | reviewer | state | outcome |")
        lines.append("|---|---|---|---|---|---|")
        for c in status.checkpoints:
            lines.append(
                f"| {escape_md(c.title)} | {c.week} | {c.due} | {escape_md(c.reviewer)} "
                f"| {c.state} | {escape_md(c.outcome or '')} |"
            )
        lines.append("")
    return lines or ["No packs yet."]


def _cell(value: object) -> str:
    return escape_md(str(value)) if value not in (None, "") else "-"


def build_markdown(ws: Workspace, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    rows = risk.assess(ws, today)
    demand = protege_demand(ws)
    out = [
        f"# Knowledge-loss report: {escape_md(ws.config.name)}",
        "",
        f"Generated {today.isoformat()}.",
        "",
        "## Risk",
        "",
        "| expert | role | leaving on | days | attrition | position | score | band | flag |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        days = "left" if r.left else _cell(r.days_to_departure)
        attrition, score = ("-", "-") if r.left else (r.attrition, r.score)
        out.append(
            f"| {_cell(r.expert.name)} | {_cell(r.expert.role)} | "
            f"{_cell(r.expert.leaving_on)} | {days} | {attrition} | "
            f"{r.position_risk} | {score} | {r.band} | "
            f"{'high risk, low coverage' if r.flag else ''} |"
        )
    out += [
        "",
        "## Coverage",
        "",
        "| expert | sessions | observations | hours | sections answered | coverage "
        "| open questions | topics without evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r.coverage
        out.append(
            f"| {_cell(r.expert.name)} | {c.sessions} | {c.observations} | "
            f"{c.hours_recorded:.2f} | {c.sections_answered}/{c.sections_total} | "
            f"{c.share:.0%} | {len(c.open_questions) + len(c.protege_questions)} | "
            f"{_cell(', '.join(c.topics_without_evidence))} |"
        )
    out += [
        "",
        "## Protégé demand",
        "",
        f"{demand.asked} questions asked; {demand.answered} answered from the knowledge base "
        f"({demand.share_answered:.0%}).",
        "",
    ]
    out += [f"- not captured: {escape_md(q)}" for q in demand.not_captured]
    out += ["", "## Packs and checkpoints", "", *_pack_lines(ws)]
    from tacit.privacy import mask  # redaction covers the report: topics, questions, notes

    return mask(ws, "\n".join(out).rstrip() + "\n")


def write(ws: Workspace, as_html: bool, today: dt.date | None = None) -> list:
    """Write reports/km-report.md (and .html); return the paths written."""
    text = build_markdown(ws, today)
    folder = ws.root / "reports"
    written = [folder / "km-report.md"]
    atomic_write(written[0], text)
    if as_html:
        body = markdown_to_html(text, base=folder, kb_root=ws.root)
        written.append(folder / "km-report.html")
        atomic_write(written[1], page(f"Knowledge-loss report: {ws.config.name}", body))
    return written
