"""Writing a transcript for people and other tools: WebVTT, SRT, text, JSON, Markdown.

The VTT and SRT beside every transcript.json are written from here on each save, masked by the
KB's redaction settings; `tacit export` uses the same writers.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tacit.core import timefmt
from tacit.core.errors import TacitError
from tacit.core.fileio import atomic_write
from tacit.core.workspace import Workspace
from tacit.records import redaction, sessions, transcript
from tacit.records.transcript import Transcript

EXPORTS_BESIDE = ("vtt", "srt")  # regenerated next to transcript.json on every save

DEFAULT_SPEAKER = "SPEAKER_1"


def _line(text: str) -> str:
    """One line: a name or text with a line break in it would break the cue (or turn) apart."""
    return " ".join(text.split())


def write_vtt(transcript: Transcript) -> str:
    lines = ["WEBVTT", ""]
    # WebVTT wants cues in start order (tacit's reader refuses others): overlapping speakers
    # of a two-channel recording are kept in that order
    ordered = sorted(transcript.segments, key=lambda seg: seg.start)
    for n, seg in enumerate(ordered, start=1):
        voice = _line(seg.speaker.replace(">", " ")) or DEFAULT_SPEAKER
        text = html.escape(_line(seg.text), quote=False)
        lines += [
            str(n),
            f"{timefmt.cue(seg.start)} --> {timefmt.cue(seg.end)}",
            f"<v {voice}>{text}",
            "",
        ]
    return "\n".join(lines)


def write_srt(transcript: Transcript) -> str:
    lines = []
    for n, seg in enumerate(transcript.segments, start=1):
        times = f"{timefmt.cue(seg.start, ',')} --> {timefmt.cue(seg.end, ',')}"
        lines += [str(n), times, f"{_line(seg.speaker)}: {_line(seg.text)}", ""]
    return "\n".join(lines)


def write_txt(transcript: Transcript) -> str:
    return "".join(
        f"{timefmt.stamp(s.start)} {_line(s.speaker)}: {_line(s.text)}\n"
        for s in transcript.segments
    )


def write_json(transcript: Transcript) -> str:
    return json.dumps(transcript.to_json(), ensure_ascii=False, indent=1) + "\n"


def write_md(transcript: Transcript, title: str = "Transcript") -> str:
    lines = [f"# {title}", ""]
    for seg in transcript.segments:
        lines += [f"**{timefmt.stamp(seg.start)} {_line(seg.speaker)}:** {_line(seg.text)}", ""]
    return "\n".join(lines)


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "vtt": write_vtt,
    "srt": write_srt,
    "txt": write_txt,
    "json": write_json,
    "md": write_md,
}


def masked(ws: Workspace, found: Transcript) -> Transcript:
    """Text and speaker names masked by the KB's redaction settings. Words of a changed segment
    are dropped: they would spell out what the mask hides."""
    mask = redaction.redactor(ws.config)
    segments = []
    for seg in found.segments:
        text = mask(seg.text)
        words = seg.words if text == seg.text else ()
        segments.append(replace(seg, text=text, speaker=mask(seg.speaker), words=words))
    history = transcript.masked_history(found.history, mask, speakers=True)
    return replace(found, segments=tuple(segments), history=history)


def render(
    ws: Workspace, found: Transcript, fmt: str, *, unredacted: bool = False,
    title: str = "Transcript",
) -> str:  # fmt: skip
    """The transcript in an export format; masked by the KB's redaction unless asked not to."""
    if fmt not in WRITERS:
        raise TacitError(f"unknown format {fmt!r}; use one of {', '.join(WRITERS)}")
    shown = found if unredacted else masked(ws, found)
    if fmt == "md":
        return write_md(shown, title)
    return WRITERS[fmt](shown)


def save_with_exports(ws: Workspace, session_id: str, found: Transcript) -> Path:
    """transcript.json (the record) and its VTT and SRT exports beside it."""
    written = transcript.path(ws, session_id)
    transcript.save(written, found)
    for fmt in EXPORTS_BESIDE:
        atomic_write(written.with_suffix(f".{fmt}"), render(ws, found, fmt))
    return written


def export(ws: Workspace, session_id: str, fmt: str, *, unredacted: bool = False) -> str:
    session = sessions.get(ws, session_id)
    found = transcript.of_session(ws, session_id)
    return render(ws, found, fmt, unredacted=unredacted, title=session.title or session.id)
