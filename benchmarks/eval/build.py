"""Build the evaluation set: source/<id>.txt -> transcripts/<id>.json, questions -> time spans.

A source file is a written interview: three header lines

    # title: Exit interview: ...
    # expert: slug|Full Name|role
    # speakers: Interviewer Name, Expert Name, Successor Name

then one `Speaker: text` turn a line. The builder gives each turn deterministic times (speech at
2.5 words a second, a 0.6 s pause between turns), so that a question labelled with turn numbers
maps to a time span, the way a real recording would be cited.

Usage: python benchmarks/eval/build.py   (writes benchmarks/eval/transcripts/*.json)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
WORDS_PER_SECOND = 2.5
TURN_GAP_S = 0.6


class EvalFormatError(ValueError):
    """A source or question file that does not follow the format; the message names the line."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    transcript: str  # the source id, e.g. t01
    turns: tuple[int, ...]  # 1-based
    spans: tuple[tuple[float, float], ...]  # one (start, end) per labelled turn, in seconds


def parse_source(path: Path) -> dict:
    """One source file -> the Whisper-JSON-like transcript (with deterministic times)."""
    header: dict[str, str] = {}
    segments: list[dict] = []
    clock = 0.0
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, _, value = line.lstrip("#").partition(":")
            header[key.strip()] = value.strip()
            continue
        speakers = _speakers(header, path)
        speaker = next((s for s in speakers if line.startswith(f"{s}:")), None)
        if speaker is None:
            raise EvalFormatError(f"{path}:{number}: turn does not start with a listed speaker")
        text = line[len(speaker) + 1 :].strip()
        duration = max(len(text.split()), 1) / WORDS_PER_SECOND
        segments.append(
            {
                "start": round(clock, 2),
                "end": round(clock + duration, 2),
                "speaker": speaker,
                "text": text,
            }
        )
        clock += duration + TURN_GAP_S
    slug, name, role = _expert(header, path)
    return {
        "title": header.get("title", path.stem),
        "expert": slug,
        "expert_name": name,
        "role": role,
        "speakers": _speakers(header, path),
        "segments": segments,
    }


def _speakers(header: dict[str, str], path: Path) -> list[str]:
    if "speakers" not in header:
        raise EvalFormatError(f"{path}: no '# speakers:' line before the first turn")
    return [s.strip() for s in header["speakers"].split(",") if s.strip()]


def _expert(header: dict[str, str], path: Path) -> tuple[str, str, str]:
    parts = [p.strip() for p in header.get("expert", "").split("|")]
    if len(parts) != 3 or not all(parts[:2]):
        raise EvalFormatError(f"{path}: '# expert: slug|Full Name|role' is missing or incomplete")
    return parts[0], parts[1], parts[2]


def load_questions(path: Path, transcript: dict) -> list[Question]:
    """questions/<id>.jsonl -> Questions whose turns are mapped to the transcript's times."""
    segments = transcript["segments"]
    found: list[Question] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            turns = tuple(int(t) for t in data["turns"])
            question = str(data["question"])
            qid = str(data["id"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise EvalFormatError(f"{path}:{number}: bad question line: {exc}") from None
        if not turns or any(not 1 <= t <= len(segments) for t in turns):
            raise EvalFormatError(f"{path}:{number}: turns {turns} outside 1..{len(segments)}")
        spans = tuple((segments[t - 1]["start"], segments[t - 1]["end"]) for t in turns)
        found.append(Question(qid, question, path.stem, turns, spans))
    return found


def build(eval_dir: Path = EVAL_DIR, write: bool = True) -> tuple[dict[str, dict], list[Question]]:
    """Every source -> transcript (written under transcripts/ when write), and every question."""
    transcripts: dict[str, dict] = {}
    for source in sorted((eval_dir / "source").glob("*.txt")):
        transcripts[source.stem] = parse_source(source)
    questions: list[Question] = []
    for path in sorted((eval_dir / "questions").glob("*.jsonl")):
        if path.stem not in transcripts:
            raise EvalFormatError(f"{path}: no source/{path.stem}.txt for these questions")
        questions += load_questions(path, transcripts[path.stem])
    if write:
        out = eval_dir / "transcripts"
        out.mkdir(exist_ok=True)
        for stem, data in transcripts.items():
            text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
            (out / f"{stem}.json").write_text(text, encoding="utf-8")
    return transcripts, questions


def main() -> None:
    transcripts, questions = build()
    minutes = sum(t["segments"][-1]["end"] for t in transcripts.values() if t["segments"]) / 60
    turns = sum(len(t["segments"]) for t in transcripts.values())
    print(
        f"{len(transcripts)} transcripts ({turns} turns, {minutes:.0f} min of speech), "
        f"{len(questions)} questions -> {EVAL_DIR / 'transcripts'}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
