"""Re-masking what tacit derived beside the records, after the redaction settings changed: the
VTT and SRT exports next to each transcript.json and the questions in questions.jsonl. The
records themselves stay as spoken (rewriting them is `tacit redact --apply`)."""

from __future__ import annotations

from tacit.core.errors import TacitError
from tacit.core.fileio import atomic_write
from tacit.core.workspace import Workspace
from tacit.records import questions, transcript_exports
from tacit.records import transcript as transcript_model
from tacit.records.redaction import redactor


def refresh_derived(ws: Workspace) -> str:
    """After the redaction settings changed: re-render the exports kept beside each record
    (transcript.vtt / .srt) and mask the questions logged in questions.jsonl, so no text the
    settings now hide stays in a file tacit derived. The records themselves stay as spoken."""
    exports = 0
    for path in sorted(ws.sessions_dir.glob(f"*/{transcript_model.TRANSCRIPT_NAME}")):
        beside = [path.with_suffix(f".{fmt}") for fmt in transcript_exports.EXPORTS_BESIDE]
        beside = [p for p in beside if p.is_file() and not p.is_symlink()]
        if not beside:
            continue
        try:
            transcript = transcript_model.of_session(ws, path.parent.name)
        except TacitError:
            continue  # an unreadable transcript is reported by the index run itself
        for target in beside:
            atomic_write(target, transcript_exports.render(ws, transcript, target.suffix[1:]))
            exports += 1
    masked_questions = _mask_question_log(ws)
    return (
        f"redaction settings changed: re-masked {exports} transcript exports beside the "
        f"records and {masked_questions} logged questions"
    )


def _mask_question_log(ws: Workspace) -> int:
    redact = redactor(ws.config)

    def masked(line: questions.Line) -> str:
        question = (line.entry or {}).get("question")
        if not isinstance(question, str) or redact(question) == question:
            return line.text
        return questions.encoded({**(line.entry or {}), "question": redact(question)})

    return questions.rewrite(ws, masked)
