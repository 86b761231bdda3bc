"""Redaction: masks names, e-mail addresses, phone numbers and patterns in derived text."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from tacit.core.config import Config

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# +44 20 7946 0958, (555) 010-7788, 555-010-7788, 07700 900123: 7+ digits with separators
PHONE = re.compile(r"(?<![\w-])\+?\(?\d[\d\s().-]{5,}\d(?![\w-])")
MASK = "[redacted]"
# dates and clock times look like phone numbers to PHONE: 2026-06-30, 30.06.2026, 12:30:05
DATE_OR_TIME = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")


@dataclass(frozen=True)
class Redactor:
    patterns: tuple[re.Pattern[str], ...]
    fingerprint: str

    def __call__(self, text: str) -> str:
        for pattern in self.patterns:
            text = pattern.sub(lambda m: MASK if _worth_masking(m) else m.group(0), text)
        return text

    def matches(self, text: str) -> list[str]:
        found: list[str] = []
        for pattern in self.patterns:
            found += [m.group(0) for m in pattern.finditer(text) if _worth_masking(m)]
        return found


def _worth_masking(match: re.Match[str]) -> bool:
    # a phone pattern must not eat times like 00:01:23 or years: at least 7 digits
    if match.re is PHONE:
        text = match.group(0).strip()
        if DATE_OR_TIME.fullmatch(text):
            return False
        return sum(ch.isdigit() for ch in text) >= 7
    return True


def redactor(config: Config) -> Redactor:
    settings = config.redaction
    patterns: list[re.Pattern[str]] = []
    for term in settings["terms"]:
        if term.strip():
            patterns.append(re.compile(rf"(?<!\w){re.escape(term.strip())}(?!\w)", re.IGNORECASE))
    patterns += [re.compile(p) for p in settings["patterns"]]
    if settings["emails"]:
        patterns.append(EMAIL)
    if settings["phones"]:
        patterns.append(PHONE)
    fingerprint = hashlib.sha256(json.dumps(settings, sort_keys=True).encode("utf-8")).hexdigest()[
        :16
    ]
    return Redactor(patterns=tuple(patterns), fingerprint=fingerprint)


@dataclass(frozen=True)
class Finding:
    where: str  # "transcript 00:01:23" or "answer <qid>" or "step <n>"
    text: str  # the match


def session_texts(ws, session_id: str) -> list[tuple[str, str]]:
    """(where, text) for every piece of text a session holds."""
    from tacit.records import sessions
    from tacit.records import transcript as transcript_model
    from tacit.records.session_page import clock

    session = sessions.get(ws, session_id)
    texts = [(f"answer {a.qid}", a.text) for a in session.answers if a.text]
    texts += [(f"step {s.n}", f"{s.action} {s.key_point} {s.reason}") for s in session.steps]
    path = ws.session_dir(session_id) / transcript_model.TRANSCRIPT_NAME
    if path.is_file():
        texts += [
            (f"transcript {clock(seg.start)}", seg.text)
            for seg in transcript_model.load(path).segments
        ]
    if session.notes:
        texts.append(("notes", session.notes))
    return texts


def preview(ws, session_id: str) -> list[Finding]:
    mask = redactor(ws.config)
    return [
        Finding(where, hit)
        for where, text in session_texts(ws, session_id)
        for hit in mask.matches(text)
    ]


def redact_originals(ws, session_id: str) -> int:
    """Rewrite the session's plain files with masks (only when tacit.toml says so)."""
    from dataclasses import replace

    from tacit.core.errors import TacitError
    from tacit.records import sessions
    from tacit.records import transcript as transcript_model

    if not ws.config.redaction["redact_originals"]:
        raise TacitError(
            "originals are kept as spoken; set redact_originals = true under [redaction] in "
            "tacit.toml to rewrite them (everything derived is masked at the next `tacit index`)"
        )
    mask = redactor(ws.config)
    count = len(preview(ws, session_id))
    session = sessions.get(ws, session_id)
    sessions.update(
        ws,
        session,
        answers=tuple(replace(a, text=mask(a.text)) for a in session.answers),
        steps=tuple(
            replace(s, action=mask(s.action), key_point=mask(s.key_point), reason=mask(s.reason))
            for s in session.steps
        ),
        notes=mask(session.notes),
    )
    path = ws.session_dir(session_id) / transcript_model.TRANSCRIPT_NAME
    if path.is_file():
        transcript = transcript_model.load(path)
        segments = tuple(replace(seg, text=mask(seg.text), words=()) for seg in transcript.segments)
        transcript_model.save(path, replace(transcript, segments=segments))
    return count


def set_consent(ws, session_id: str, status: str, by: str | None = None, use: str | None = None):
    """Record consent given, refused or withdrawn, with who and when."""
    import datetime as dt

    from tacit.records import sessions

    session = sessions.get(ws, session_id)
    consent = {
        "status": status,
        "when": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
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


def mask(ws, text: str) -> str:
    """Text as tacit may show it now: masked by the KB's current redaction settings."""
    return redactor(ws.config)(text) if text else text


def mask_answer(ws, answer):
    """An answer masked by the current settings at the moment it is shown: a term added after
    indexing is hidden at once (the index is re-masked at the next `tacit index`), and the
    topics that explain a suggested expert are masked like every other derived text."""
    from dataclasses import replace

    redact = redactor(ws.config)
    if not redact.patterns:
        return answer
    source = answer.source
    if source is not None:  # the headline's citation names its speaker
        source = replace(source, speaker=redact(source.speaker), citation=redact(source.citation))
    return replace(
        answer,
        answer=redact(answer.answer),
        source=source,
        results=tuple(
            replace(r, text=redact(r.text), speaker=redact(r.speaker), citation=redact(r.citation))
            for r in answer.results
        ),
        experts=tuple(replace(s, why=redact(s.why), role=redact(s.role)) for s in answer.experts),
    )


def refresh_derived(ws) -> str:
    """After the redaction settings changed: re-render the exports kept beside each record
    (transcript.vtt / .srt) and mask the questions logged in questions.jsonl, so no text the
    settings now hide stays in a file tacit derived. The records themselves stay as spoken."""
    from tacit.capture import importer
    from tacit.core.errors import TacitError
    from tacit.core.fileio import atomic_write
    from tacit.records import transcript as transcript_model

    exports = 0
    for path in sorted(ws.sessions_dir.glob(f"*/{transcript_model.TRANSCRIPT_NAME}")):
        beside = [path.with_suffix(f".{fmt}") for fmt in importer.EXPORTS_BESIDE]
        beside = [p for p in beside if p.is_file() and not p.is_symlink()]
        if not beside:
            continue
        try:
            transcript = importer.load_transcript(ws, path.parent.name)
        except TacitError:
            continue  # an unreadable transcript is reported by the index run itself
        for target in beside:
            atomic_write(target, importer.render(ws, transcript, target.suffix[1:]))
            exports += 1
    questions = _mask_question_log(ws)
    return (
        f"redaction settings changed: re-masked {exports} transcript exports beside the "
        f"records and {questions} logged questions"
    )


def _mask_question_log(ws) -> int:
    from tacit.core.fileio import atomic_write

    log = ws.questions_log
    if not log.is_file() or log.is_symlink():
        return 0
    redact, changed, lines = redactor(ws.config), 0, []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        if isinstance(entry, dict) and isinstance(entry.get("question"), str):
            masked_question = redact(entry["question"])
            if masked_question != entry["question"]:
                entry["question"] = masked_question
                changed += 1
                line = json.dumps(entry, ensure_ascii=False)
        lines.append(line)
    if changed:
        atomic_write(log, "".join(f"{line}\n" for line in lines))
    return changed
