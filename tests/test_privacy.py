"""Consent changes, redaction preview, backup and restore, safe names."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from tacit.core.errors import UnsafeName
from tacit.core.workspace import safe_name
from tacit.records import sessions
from tacit.records import transcript as tr
from tacit.records.sessions import Answer, Media

FIXTURES = Path(__file__).parent / "fixtures"


def _session_with_media(kb, run, text="The seal on P-101 fails when the wet well runs dry."):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    session = sessions.create(
        kb,
        "maria-lopez",
        "interview",
        "exit",
        answers=(Answer("q1", "Role", "What fails?", text, "answered"),),
    )
    media = kb.session_dir(session.id) / "media" / "interview.wav"
    media.parent.mkdir(mode=0o700)
    media.write_bytes(os.urandom(2048))
    session = sessions.update(
        kb, session, media=(Media("media/interview.wav", sessions.sha256_of(media)),)
    )
    segments = (tr.Segment(1.0, 4.0, "Maria Lopez", "Call Dave Kim on 0161 496 0000."),)
    tr.save(kb.session_dir(session.id) / "transcript.json", tr.Transcript(segments))
    return session


def test_backup_and_restore_round_trip(kb, run, tmp_path):
    session = _session_with_media(kb, run)
    archive = tmp_path / "kb.tar.gz"
    result = run("backup", archive)
    assert result.exit_code == 0, result
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert not any(name.startswith(".tacit") for name in names)
    target = tmp_path / "restored"
    assert run("restore", archive, target).exit_code == 0
    for rel in (
        "tacit.toml",
        "experts/maria-lopez.md",
        f"sessions/{session.id}/session.md",
        f"sessions/{session.id}/media/interview.wav",
        f"sessions/{session.id}/transcript.json",
    ):
        assert (target / rel).read_bytes() == (kb.root / rel).read_bytes(), rel
        assert stat.S_IMODE((target / rel).stat().st_mode) == 0o600
    assert not (target / "tacit-backup.json").exists()
    again = run("restore", archive, target)
    assert again.exit_code == 1 and "empty folder" in again.stderr


def test_restore_refuses_members_outside_the_folder(tmp_path, run):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"owned"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = run("restore", archive, tmp_path / "target")
    assert result.exit_code == 1 and "unsafe member" in result.stderr
    assert not (tmp_path / "escaped.txt").exists()


def test_restore_detects_a_damaged_file(kb, run, tmp_path):
    _session_with_media(kb, run)
    archive = tmp_path / "kb.tar.gz"
    assert run("backup", archive).exit_code == 0
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name.endswith("interview.wav"):
                data = b"x" + data[1:]
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    result = run("restore", damaged, tmp_path / "out")
    assert result.exit_code == 1 and "interview.wav is missing or damaged" in result.stderr


def test_backup_inside_the_kb_is_refused(kb, run):
    result = run("backup", kb.root / "b.tar.gz")
    assert result.exit_code == 1 and "inside the knowledge base" in result.stderr


def test_consent_withdraw_is_recorded_with_history(kb, run):
    session = _session_with_media(kb, run)
    assert (
        run("consent", session.id, "--given-by", "Maria Lopez", "--use", "training").exit_code == 0
    )
    assert run("consent", session.id, "--withdraw").exit_code == 0
    shown = json.loads(run("session", "show", session.id, "--json").stdout)
    assert shown["consent"]["status"] == "withdrawn"
    assert shown["consent"]["history"][0]["by"] == "Maria Lopez"
    assert run("consent", session.id).exit_code == 2


def test_redact_preview_lists_names_and_phone_numbers(kb, run):
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("terms = []", 'terms = ["Dave Kim"]'))
    session = _session_with_media(kb, run)
    result = run("redact", session.id, "--preview", "--json")
    assert result.exit_code == 0, result
    found = {f["text"] for f in json.loads(result.stdout)}
    assert found == {"Dave Kim", "0161 496 0000"}
    refused = run("redact", session.id)
    assert refused.exit_code == 1 and "redact_originals" in refused.stderr
    toml.write_text(toml.read_text().replace("redact_originals = false", "redact_originals = true"))
    assert run("redact", session.id).exit_code == 0
    text = (kb.session_dir(session.id) / "transcript.json").read_text()
    assert "Dave Kim" not in text and "0161" not in text and "[redacted]" in text


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "..", "x" * 200, "a\\..\\b"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(UnsafeName):
        safe_name(name)


def test_path_traversal_in_cli_is_refused(run):
    for args in (("session", "show", "../../etc"), ("expert", "show", "../tacit")):
        result = run(*args)
        assert result.exit_code == 1 and "unsafe" in result.stderr, args


def test_redaction_masks_phones_and_emails_but_not_dates_or_part_numbers(kb):
    from tacit.records import redaction

    mask = redaction.redactor(kb.config)
    text = (
        "Ring +44 20 7946 0958 or (555) 010-7788, mail dave.kim@aquatech.example.com; "
        "due 2026-06-30 or 30/06/2026, valve PV-2207, fault E-414 at 00:01:23"
    )
    masked = mask(text)
    for secret in ("7946", "010-7788", "dave.kim"):
        assert secret not in masked
    for kept in ("2026-06-30", "30/06/2026", "PV-2207", "E-414", "00:01:23"):
        assert kept in masked


def test_wrong_extension_is_read_by_content_and_text_named_audio_is_refused(tmp_path):
    import shutil as sh

    from tacit.capture import pipeline
    from tacit.core.errors import MediaError

    audio = FIXTURES / "audio" / "two_voices.flac"
    renamed = tmp_path / "interview.mp3"
    sh.copy(audio, renamed)
    assert pipeline.check(renamed).probe.duration == pytest.approx(18.66, abs=0.1)
    text = tmp_path / "notes.m4a"
    text.write_text("these are meeting notes, not a recording\n")
    with pytest.raises(MediaError):
        pipeline.check(text)


PHONE, NAME = "0161 496 0000", "Dave Kim"


def _redacted_kb(kb, run):
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("terms = []", f'terms = ["{NAME}"]'))
    assert run("expert", "add", "Maria Lopez", "--topic", "dosing pumps").exit_code == 0
    session = sessions.create(kb, "maria-lopez", "interview", "contacts")
    segments = (
        tr.Segment(1.0, 6.0, "Priya", "Who do you call when the dosing pumps fail?"),
        tr.Segment(
            6.5,
            14.0,
            "Maria Lopez",
            f"For the dosing pumps call {NAME} at Aquatech on {PHONE}, day or night.",
        ),
    )
    tr.save(kb.session_dir(session.id) / "transcript.json", tr.Transcript(segments))
    return session


def test_redacted_name_and_phone_never_reach_index_answers_or_exports(kb, run):
    session = _redacted_kb(kb, run)
    assert run("index").exit_code == 0
    answer = run("ask", "who do I call when the dosing pumps fail?", "--json")
    assert answer.exit_code == 0, answer
    results = json.loads(answer.stdout)["results"]
    assert results and results[0]["session"] == session.id
    exported = run("export", session.id, "--format", "vtt")
    assert exported.exit_code == 0 and "[redacted]" in exported.stdout
    blobs = [answer.stdout, exported.stdout]
    for folder, _, files in os.walk(kb.cache_dir):
        blobs += [Path(folder, f).read_bytes().decode("latin-1") for f in files]
    for secret in (PHONE, NAME, "496 0000"):
        assert not any(secret.lower() in blob.lower() for blob in blobs), secret
    # the record itself keeps what was said (redact_originals is off)
    assert PHONE in (kb.session_dir(session.id) / "transcript.json").read_text()


def test_withdrawn_consent_leaves_answers_at_the_next_index(kb, run):
    session = _redacted_kb(kb, run)
    assert run("index").exit_code == 0
    question = ("ask", "who do I call when the dosing pumps fail?", "--json", "--no-log")
    assert json.loads(run(*question).stdout)["results"]
    assert run("consent", session.id, "--withdraw").exit_code == 0
    assert run("index").exit_code == 0
    after = json.loads(run(*question).stdout)
    assert after["results"] == [] or all(r["session"] != session.id for r in after["results"])
    assert (kb.session_dir(session.id) / "transcript.json").exists()  # files stay until forget


def test_restore_then_index_gives_the_same_answers(kb, run, tmp_path):
    _redacted_kb(kb, run)
    assert run("index").exit_code == 0
    question = ("ask", "who do I call when the dosing pumps fail?", "--json", "--no-log")
    before = json.loads(run(*question).stdout)
    assert run("backup", tmp_path / "kb.tar.gz").exit_code == 0
    target = tmp_path / "restored"
    assert run("restore", tmp_path / "kb.tar.gz", target).exit_code == 0
    assert run("--kb", target, "index").exit_code == 0
    after = json.loads(run("--kb", target, *question).stdout)
    strip = [(r["chunk_id"], r["text"], r["start"], r["citation"]) for r in before["results"]]
    assert strip == [
        (r["chunk_id"], r["text"], r["start"], r["citation"]) for r in after["results"]
    ]
    assert after["answer"] == before["answer"]
