"""Reading transcripts made elsewhere: WebVTT, SRT, plain text, JSON (tacit's, Whisper CLI,
WhisperX). Writing them is records/transcript_exports.py.

The VTT and SRT readers are our own (a small tested parser, because no library reports where a
file is broken): every error names the file and the line, and the cue number.
Times are kept to the millisecond, so import then export of VTT, SRT or JSON gives back every
cue's start, end, speaker and text.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tacit.core import timefmt, validation
from tacit.core.errors import TranscriptFormatError
from tacit.core.validation import MAX_SECONDS
from tacit.records.transcript import Segment, Transcript, Word

DEFAULT_SPEAKER = "SPEAKER_1"

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_LOOKS_TIMED = re.compile(r"^\s*(?:\d+:)?\d{1,2}:\d{2}[.,]\d")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]*>")
# SRT has no escapes: only its formatting tags are markup, any other '<' is text
_SRT_TAG = re.compile(r"</?(?:[ibu]|font)(?:\s[^>]*)?>|\{\\an?\d+\}", re.IGNORECASE)
# "Maria Lopez: text": a short name that starts with a letter, up to five words
_SPEAKER_PREFIX = re.compile(r"^(?P<name>[^\W\d][\w.'’ -]{0,48}?)\s*:\s+(?P<text>\S.*)$")
_STAMP = re.compile(r"^\s*\[(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.(\d{1,3}))?\]\s*(?P<rest>.*)$")


@dataclass(frozen=True)
class _Cue:
    number: int  # 1-based position in the file
    start: float
    end: float
    lines: tuple[str, ...]


def _fail(source: str, line: int, what: str) -> TranscriptFormatError:
    return TranscriptFormatError(f"{source}: line {line}: {what}")


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks with the number of their first line."""
    blocks, current, first = [], [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not current:
                first = number
            current.append(line.rstrip())
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _timing(line: str, number: int, cue: int, source: str) -> tuple[float, float]:
    match = _TIMING.match(line)
    if match is None:
        raise _fail(
            source,
            number,
            f"cue {cue}: bad timing {line.strip()!r} (want 00:00:01.000 --> 00:00:04.000)",
        )
    groups = match.groups()
    start, end = timefmt.from_parts(*groups[:4]), timefmt.from_parts(*groups[4:])
    if start is None or end is None:
        raise _fail(
            source,
            number,
            f"cue {cue}: impossible time in {line.strip()[:60]!r} (minutes and seconds run "
            f"0-59, times up to {MAX_SECONDS:g} s)",
        )
    if end < start:
        raise _fail(
            source, number, f"cue {cue}: ends ({end:.3f} s) before it starts ({start:.3f} s)"
        )
    return start, end


def _cues(blocks: list[tuple[int, list[str]]], source: str, srt: bool) -> list[_Cue]:
    cues = []
    for first, lines in blocks:
        number = len(cues) + 1
        arrow = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if arrow is None:
            timing = next((i for i, line in enumerate(lines) if _LOOKS_TIMED.search(line)), None)
            if timing is not None:
                _timing(lines[timing], first + timing, number, source)  # raises: names the line
            raise _fail(source, first, f"cue {number}: no timing line (… --> …)")
        if srt and (arrow != 1 or not lines[0].strip().isdigit()):
            raise _fail(source, first, f"cue {number}: expected a cue number, then its timing")
        if not srt and arrow > 1:
            raise _fail(source, first + 1, f"cue {number}: text before the timing line")
        start, end = _timing(lines[arrow], first + arrow, number, source)
        if not srt and cues and start < cues[-1].start:
            # WebVTT: a cue may not start before the cue above it
            before = f"cue {number - 1} ({cues[-1].start:.3f} s)"
            raise _fail(
                source, first + arrow, f"cue {number}: starts ({start:.3f} s) before {before}"
            )
        cues.append(_Cue(number, start, end, tuple(lines[arrow + 1 :])))
    return cues


def _speaker_style(cues: list[tuple[str | None, str]]) -> bool:
    """Meeting tools write 'Name: text'; trust that only when most cues do it."""
    prefixed = sum(1 for voice, text in cues if voice is None and _SPEAKER_PREFIX.match(text))
    return bool(cues) and prefixed >= 0.6 * len(cues)


def _split_speaker(voice: str | None, text: str, by_prefix: bool) -> tuple[str, str]:
    if voice:
        return voice, text
    match = _SPEAKER_PREFIX.match(text) if by_prefix else None
    if match and len(match["name"].split()) <= 5:
        return match["name"].strip(), match["text"].strip()
    return DEFAULT_SPEAKER, text


def _cue_text(raw: str, srt: bool) -> tuple[str | None, str]:
    """(voice tag's speaker or None, plain text) of a cue's payload."""
    if srt:
        return None, " ".join(_SRT_TAG.sub("", raw).split())
    voice = _VOICE.search(raw)
    text = html.unescape(_TAG.sub("", raw)).replace("\xa0", " ")
    return (voice[1].strip() if voice else None), " ".join(text.split())


def _segments_from_cues(cues: list[_Cue], srt: bool) -> tuple[Segment, ...]:
    heard = [_cue_text(" ".join(cue.lines), srt) for cue in cues]
    by_prefix = _speaker_style(heard)
    segments = []
    for cue, (voice, text) in zip(cues, heard, strict=True):
        if not text:
            continue  # an empty cue carries nothing to keep
        speaker, words = _split_speaker(voice, text, by_prefix)
        segments.append(Segment(start=cue.start, end=cue.end, speaker=speaker, text=words))
    return tuple(segments)


def read_vtt(text: str, source: str) -> Transcript:
    blocks = _blocks(text.lstrip("\ufeff"))
    if not blocks or not blocks[0][1][0].startswith("WEBVTT"):
        raise _fail(source, 1, "a WebVTT file must start with WEBVTT")
    body = [
        (first, lines)
        for first, lines in blocks[1:]
        if not lines[0].startswith(("NOTE", "STYLE", "REGION"))
    ]
    return Transcript(segments=_segments_from_cues(_cues(body, source, srt=False), srt=False))


def read_srt(text: str, source: str) -> Transcript:
    cues = _cues(_blocks(text.lstrip("\ufeff")), source, srt=True)
    if not cues:
        raise _fail(source, 1, "no subtitles found")
    return Transcript(segments=_segments_from_cues(cues, srt=True))


def _txt_turns(text: str, source: str) -> list[tuple[int, float | None, str, str]]:
    """(line, start or None, speaker, text) per turn; unprefixed lines continue the turn."""
    turns: list[tuple[int, float | None, str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        start = None
        stamp = _STAMP.match(line)
        if stamp:
            start, line = timefmt.from_parts(*stamp.groups()[:4]), stamp["rest"].strip()
            if start is None:
                raise _fail(
                    source, number, f"impossible time stamp in {raw.strip()[:40]!r} "
                    "(minutes and seconds run 0-59)"
                )  # fmt: skip
        elif line.startswith("["):
            raise _fail(source, number, f"bad time stamp in {raw.strip()[:40]!r} (want [hh:mm:ss])")
        prefix = _SPEAKER_PREFIX.match(line)
        if prefix and len(prefix["name"].split()) <= 5:
            turns.append((number, start, prefix["name"].strip(), prefix["text"].strip()))
        elif turns and start is None:
            n, s, who, said = turns[-1]
            turns[-1] = (n, s, who, f"{said} {line}".strip())
        else:
            speaker = turns[-1][2] if turns else DEFAULT_SPEAKER
            turns.append((number, start, speaker, line))
    return turns


def read_txt(text: str, source: str) -> Transcript:
    turns = _txt_turns(text, source)
    if not turns:
        raise _fail(source, 1, "no text found")
    starts: list[float] = []
    for number, start, _speaker, _said in turns:
        value = start if start is not None else (starts[-1] if starts else 0.0)
        if starts and value < starts[-1]:
            raise _fail(source, number, f"time {value:g} s is before the previous line's")
        starts.append(value)
    ends = [*starts[1:], starts[-1]]  # no end times in plain text: a turn ends when the next starts
    segments = tuple(
        Segment(start=s, end=e, speaker=who, text=said)
        for (_n, _s, who, said), s, e in zip(turns, starts, ends, strict=True)
        if said
    )
    return Transcript(segments=segments)


def _time(value: Any, what: str, where: str) -> float:
    """A JSON time: a finite number of seconds from 0 to MAX_SECONDS."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TranscriptFormatError(f"{where}: {what} must be a number, not {value!r}"[:200])
    try:
        seconds = float(value)
    except ValueError:
        raise TranscriptFormatError(
            f"{where}: {what} must be a number, not {value!r}"[:200]
        ) from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
        raise TranscriptFormatError(
            f"{where}: {what} must be from 0 to {MAX_SECONDS:g} seconds, not {value!r}"[:200]
        )
    return round(seconds, 3)


def _json_words(raw: Any, where: str) -> tuple[Word, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise TranscriptFormatError(f"{where}: words must be a list")
    words = []
    for n, w in enumerate(raw, start=1):
        if not isinstance(w, dict) or "start" not in w or "end" not in w:
            continue  # WhisperX leaves numbers it could not align without times
        at = f"{where}: word {n}"
        start, end = _time(w["start"], "start", at), _time(w["end"], "end", at)
        if end < start:
            raise TranscriptFormatError(f"{at}: ends ({end:g} s) before it starts ({start:g} s)")
        text = w.get("word", w.get("text", ""))
        if isinstance(text, list | dict):
            raise TranscriptFormatError(f"{at}: word must be text")
        prob = w.get("probability", w.get("score", 1.0))
        prob = _time(prob, "probability", at) if prob is not None else 1.0
        words.append(Word(start, end, " ".join(str(text).split()), round(min(prob, 1.0), 3)))
    return tuple(words)


def _json_segment(raw: Any, index: int, source: str) -> Segment:
    where = f"{source}: segment {index}"
    if not isinstance(raw, dict):
        raise TranscriptFormatError(f"{where}: must be an object with start, end and text")
    missing = [k for k in ("start", "end", "text") if k not in raw]
    if missing:
        raise TranscriptFormatError(f"{where}: no {', '.join(missing)}")
    start, end = _time(raw["start"], "start", where), _time(raw["end"], "end", where)
    if end < start:
        raise TranscriptFormatError(f"{where}: ends ({end:g} s) before it starts ({start:g} s)")
    words = _json_words(raw.get("words"), where)
    speaker, text = raw.get("speaker") or DEFAULT_SPEAKER, raw["text"]
    if isinstance(speaker, list | dict) or isinstance(text, list | dict):
        raise TranscriptFormatError(f"{where}: speaker and text must be text")
    name = " ".join(str(speaker).split())[:200] or DEFAULT_SPEAKER
    return Segment(start, end, name, " ".join(str(text).split()), words)


def read_json(text: str, source: str) -> Transcript:
    """tacit's transcript.json, the Whisper CLI's JSON, or WhisperX's (segments with speakers)."""
    data = validation.load_json(text, source, TranscriptFormatError, finite=False)
    raw = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(raw, list):
        raise TranscriptFormatError(f"{source}: expected a list of segments under 'segments'")
    segments = tuple(_json_segment(s, i, source) for i, s in enumerate(raw, start=1))
    kept = {}
    if isinstance(data, dict):
        kept = {k: data[k] for k in ("language", "model") if isinstance(data.get(k), str)}
        if isinstance(data.get("settings"), dict):
            kept["settings"] = data["settings"]
    return Transcript(segments=segments, **kept)


READERS: dict[str, Callable[[str, str], Transcript]] = {
    "vtt": read_vtt,
    "srt": read_srt,
    "txt": read_txt,
    "json": read_json,
}


def guess_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in READERS:
        return suffix
    if suffix == "text":
        return "txt"
    raise TranscriptFormatError(
        f"{path}: cannot tell the format from {path.suffix or 'no extension'!r}; "
        "use .vtt, .srt, .txt or .json, or give --format"
    )


def read(path: Path, fmt: str | None = None) -> Transcript:
    """Read a transcript file; errors name the file and the line (or cue or segment)."""
    path = Path(path)
    fmt = fmt or guess_format(path)
    if fmt not in READERS:
        raise TranscriptFormatError(
            f"unknown transcript format {fmt!r}; use one of {', '.join(READERS)}"
        )
    try:
        if path.stat().st_size > validation.MAX_TRANSCRIPT_BYTES:
            limit = validation.MAX_TRANSCRIPT_BYTES // (1024 * 1024)
            raise TranscriptFormatError(f"{path}: larger than {limit} MB; not a transcript")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TranscriptFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TranscriptFormatError(f"{path}: is a folder, not a transcript") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise _fail(str(path), line, "not UTF-8 text") from None
    transcript = READERS[fmt](text, str(path))
    if not transcript.segments:
        raise TranscriptFormatError(f"{path}: no text found")
    return transcript
