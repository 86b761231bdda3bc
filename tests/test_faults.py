"""Fault suite: nothing lost, nothing kept, nothing half done.

Each test reproduces one finding of an attack on real knowledge bases: paths that leave the
KB through links, records whose id points at another session, kills at named steps
(TACIT_FAULT=step makes the process SIGKILL itself there, see tacit/faults.py), restores that
stop half way. Indexing here uses the FAKE embedder (TACIT_TEST_EMBEDDER=fake: hashed words,
instant) with the real Chroma; tests/test_erasure.py runs forget with the real model.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tacit.admin import doctor
from tacit.core import intents
from tacit.index import synthetic
from tacit.records import transcript as transcript_model
from tacit.records import transcript_exports

FAKE = {"TACIT_TEST_EMBEDDER": "fake"}


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch):
    monkeypatch.setenv("TACIT_TEST_EMBEDDER", "fake")


def _tacit(ws, *args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    """The CLI in its own process, so that a fault can kill it."""
    env = {**os.environ, **FAKE, "TACIT_KB": str(ws.root)}
    env.pop("TACIT_FAULT", None)
    if fault:
        env["TACIT_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-c", "from tacit.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _two_sessions(ws, run) -> tuple[str, str]:
    """Two small sessions of two experts: (kept, to forget)."""
    for name in ("Ana Ruiz", "Ben Cole"):
        assert run("expert", "add", name).exit_code == 0
    rng = random.Random(7)
    kept = synthetic.write_session(
        ws, "ana-ruiz", "keep", [("Ana", "The intake screen is raked every Monday.")]
    )
    gone = synthetic.write_session(
        ws,
        "ben-cole",
        "gone",
        [("Ben", "The purple heron valve opens after the seventh bell.")] + synthetic.turns(rng, 4),
    )
    return kept.id, gone.id


def _one_line_error(result) -> None:
    assert result.exit_code == 1, result
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2, result  # the message and its hint


def _cited_sessions(run, question: str) -> set[str]:
    asked = run("ask", question, "--json", "--no-log")
    assert asked.exit_code == 0, asked
    return {r["session"] for r in json.loads(asked.stdout)["results"]}


# --- paths stay inside the KB --------------------------------------------------------------


def test_forget_never_deletes_through_a_link_out_of_the_kb(kb, run, tmp_path):
    _, gone = _two_sessions(kb, run)
    outside = tmp_path / "outside"
    (outside / "build").mkdir(parents=True)
    (outside / "reports").mkdir()
    precious = [outside / "build" / "pack.md", outside / "reports" / "km.md"]
    for path in precious:
        path.write_text(f"quotes {gone} at 00:01\n")
    (kb.packs_dir / "p1").mkdir()
    (kb.packs_dir / "p1" / "build").symlink_to(outside / "build")
    (kb.root / "reports").symlink_to(outside / "reports")
    result = run("forget", "--session", gone, "--yes")
    assert result.exit_code == 0, result
    assert all(p.read_text() == f"quotes {gone} at 00:01\n" for p in precious)
    assert "not followed" in result.stderr and "packs/p1/build" in result.stderr
    assert not kb.session_dir(gone).exists()


def test_forget_refuses_a_symlinked_session_folder(kb, run, tmp_path):
    _, gone = _two_sessions(kb, run)
    elsewhere = tmp_path / "elsewhere"
    kb.session_dir(gone).rename(elsewhere)
    kb.session_dir(gone).symlink_to(elsewhere)
    result = run("forget", "--session", gone, "--yes")
    _one_line_error(result)
    assert "symbolic link" in result.stderr
    assert (elsewhere / "session.md").is_file() and (elsewhere / "transcript.json").is_file()
    assert intents.read(kb, intents.FORGET) is None


def test_index_never_reads_a_session_folder_through_a_link(kb, run, tmp_path):
    _, gone = _two_sessions(kb, run)
    elsewhere = tmp_path / "elsewhere"
    kb.session_dir(gone).rename(elsewhere)
    kb.session_dir(gone).symlink_to(elsewhere)
    result = run("index")
    _one_line_error(result)
    assert "symbolic link" in result.stderr and gone in result.stderr


def test_a_record_whose_id_differs_from_its_folder_is_refused(kb, run):
    kept, gone = _two_sessions(kb, run)
    record = kb.session_dir(gone) / "session.md"
    record.write_text(record.read_text().replace(f"id: {gone}", f"id: {kept}"))
    result = run("forget", "--session", gone, "--yes")
    _one_line_error(result)
    assert "says id" in result.stderr
    assert run("forget", "--expert", "ben-cole", "--yes").exit_code == 1
    assert kb.session_dir(kept).is_dir() and kb.session_dir(gone).is_dir()
    checked = run("doctor", "--json")
    assert checked.exit_code == 1, checked
    found = {c["name"]: c for c in json.loads(checked.stdout)["checks"]}
    assert not found["session ids"]["ok"]
    assert f"{gone} (id: {kept})" in found["session ids"]["detail"]


@pytest.mark.parametrize("target", ["questions.jsonl", "reports"])
def test_tacit_never_writes_through_a_link(kb, run, tmp_path, target):
    _two_sessions(kb, run)
    assert run("index").exit_code == 0
    outside = tmp_path / "outside"
    if target == "reports":
        outside.mkdir()
        (kb.root / "reports").symlink_to(outside)
        result = run("report")
    else:
        outside.write_text("")
        (kb.root / "questions.jsonl").symlink_to(outside)
        result = run("ask", "when does the heron valve open?")
    _one_line_error(result)
    assert "symbolic link" in result.stderr
    assert not outside.is_file() or outside.read_text() == ""
    assert not outside.is_dir() or not any(outside.iterdir())


def test_forget_refuses_before_changing_anything_when_the_log_is_a_link(kb, run, tmp_path):
    _, gone = _two_sessions(kb, run)
    outside = tmp_path / "log.jsonl"
    outside.write_text(json.dumps({"question": "q", "filters": {"session": gone}}) + "\n")
    (kb.root / "questions.jsonl").symlink_to(outside)
    result = run("forget", "--session", gone, "--yes")
    _one_line_error(result)
    assert kb.session_dir(gone).is_dir() and intents.pending(kb) == []
    assert gone in outside.read_text()


def test_pack_build_never_writes_through_a_linked_build_folder(kb, run, tmp_path):
    _two_sessions(kb, run)
    assert run("index").exit_code == 0
    made = run(
        "pack", "new", "p1", "--role", "Operator", "--protege", "Dan", "--mentor", "Eve",
        "--start", "2026-01-05", "--weeks", "4", "--expert", "ana-ruiz",
    )  # fmt: skip
    assert made.exit_code == 0, made
    outside = tmp_path / "outside"
    outside.mkdir()
    (kb.packs_dir / "p1" / "build").symlink_to(outside)
    result = run("pack", "build", "p1")
    _one_line_error(result)
    assert "symbolic link" in result.stderr and not any(outside.iterdir())


# --- operations that finish ----------------------------------------------------------------


@pytest.mark.parametrize(
    "step", ["after-intent", "after-store-delete", "after-files", "after-builds"]
)
def test_a_killed_forget_hides_its_sessions_and_is_finished_by_the_next_writer(kb, run, step):
    kept, gone = _two_sessions(kb, run)
    assert run("index").exit_code == 0
    assert gone in _cited_sessions(run, "when does the purple heron valve open?")
    # a logged question that cites the session through its chunk ids only
    from tacit.index import manifest

    theirs = {i for i, e in manifest.load(kb).chunks.items() if e["session"] == gone}
    line = {"question": "when?", "not_captured": False, "cited": sorted(theirs)[:1]}
    odd = ['{"cited": 5, "experts": 3, "filters": {"session": [1]}}', "[1, 2]", "not json"]
    kb.questions_log.write_text("\n".join([json.dumps(line), *odd]) + "\n")
    killed = _tacit(kb, "forget", "--session", gone, "--yes", fault=f"forget:{step}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert intents.read(kb, intents.FORGET) is not None
    # ask takes no lock and cannot finish the forget, but never shows what is being forgotten
    assert gone not in _cited_sessions(run, "when does the purple heron valve open?")
    checks = {c.name: c for c in doctor._integrity(kb)}
    assert not checks["interrupted work"].ok and "forget" in checks["interrupted work"].detail
    status = json.loads(run("index", "status", "--json").stdout)
    assert not status["up_to_date"] and any("forget" in r for r in status["stale"])
    finishing = run("forget")  # or any command that changes records and index
    assert finishing.exit_code == 0, finishing
    assert "finished an interrupted forget" in finishing.stderr
    assert intents.read(kb, intents.FORGET) is None
    assert not kb.session_dir(gone).exists()
    assert kb.questions_log.read_text().splitlines() == odd  # odd lines kept, untouched
    assert _cited_sessions(run, "when is the intake screen raked?") == {kept}
    status = json.loads(run("index", "status", "--json").stdout)
    assert status["up_to_date"], status


@pytest.mark.parametrize("step", ["rebuild-intent", "reset", "stored"])
def test_index_status_tells_the_truth_after_a_killed_rebuild(kb, run, step):
    _two_sessions(kb, run)
    assert run("index").exit_code == 0
    before = json.loads(run("index", "status", "--json").stdout)
    assert before["up_to_date"] and before["chunks"] > 0
    killed = _tacit(kb, "index", "--rebuild", fault=f"index:{step}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    status = json.loads(run("index", "status", "--json").stdout)
    assert not status["up_to_date"]
    assert any("rebuild was interrupted" in r for r in status["stale"]), status
    checks = {c.name: c for c in doctor._integrity(kb)}
    assert "rebuild" in checks["interrupted work"].detail
    finishing = run("index")
    assert finishing.exit_code == 0, finishing
    after = json.loads(run("index", "status", "--json").stdout)
    assert after["up_to_date"] and after["chunks"] == before["chunks"]
    assert intents.pending(kb) == []


# --- restore: all or nothing ---------------------------------------------------------------


def _archive(kb, run, tmp_path) -> Path:
    _two_sessions(kb, run)
    archive = tmp_path / "kb.tar.gz"
    assert run("backup", archive).exit_code == 0
    return archive


def test_a_killed_restore_leaves_no_target_and_a_second_restore_works(kb, run, tmp_path):
    archive = _archive(kb, run, tmp_path)
    target = tmp_path / "restored"
    killed = _tacit(kb, "restore", str(archive), str(target), fault="restore:after-unpack")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not target.exists()
    (half,) = tmp_path.glob(".restored.restoring-*")
    from tacit.core import workspace

    checks = {c.name: c for c in doctor._integrity(workspace.Workspace(half, kb.config))}
    assert not checks["restore"].ok
    again = run("restore", archive, target)
    assert again.exit_code == 0, again
    assert (target / "tacit.toml").is_file() and not list(tmp_path.glob(".restored.restoring-*"))


def _tar(path: Path, members: dict[str, bytes | str], links: dict[str, str] = {}) -> Path:  # noqa: B006
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            payload = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        for name, to in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, to
            tar.addfile(info)
    return path


GOOD_TOML = 'name = "x"\n'
SUM = "a" * 64


@pytest.mark.parametrize(
    "manifest",
    [
        "{not json",
        "[1, 2]",
        json.dumps({"format": 1, "sha256": [1]}),
        '{"format": 1, "sha256": {"../x": 5}}',
    ],
    ids=["not-json", "a-list", "sums-not-a-map", "bad-entry"],
)
def test_a_malformed_backup_manifest_is_one_line_and_leaves_nothing(tmp_path, run, manifest):
    archive = _tar(tmp_path / "b.tar.gz", {"tacit.toml": GOOD_TOML, "tacit-backup.json": manifest})
    target = tmp_path / "out"
    result = run("restore", archive, target)
    _one_line_error(result)
    assert "tacit-backup.json is damaged" in result.stderr
    assert not target.exists() and not list(tmp_path.glob(".out.restoring-*"))


def test_restore_refuses_links_and_unlisted_files_and_leaves_nothing(tmp_path, run):
    linked = _tar(
        tmp_path / "l.tar.gz",
        {"tacit.toml": GOOD_TOML, "tacit-backup.json": json.dumps({"format": 1, "sha256": {}})},
        links={"sessions/s1/session.md": "../../../victim.md"},
    )
    unlisted = _tar(
        tmp_path / "u.tar.gz",
        {
            "tacit.toml": GOOD_TOML,
            "big.bin": b"\0" * 100_000,
            "tacit-backup.json": json.dumps({"format": 1, "sha256": {}}),
        },
    )
    for archive, said in ((linked, "link"), (unlisted, "not in the backup's manifest")):
        result = run("restore", archive, tmp_path / "out")
        _one_line_error(result)
        assert said in result.stderr
        assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.restoring-*"))


# --- forget reaches everything tacit wrote ---------------------------------------------------


def test_forget_expert_leaves_packs_reviews_and_lock_names_clean(kb, run):
    kept, gone = _two_sessions(kb, run)
    made = run(
        "pack", "new", "p1", "--role", "Operator", "--protege", "Dan", "--mentor", "Eve",
        "--start", "2026-01-05", "--weeks", "4", "--expert", "ana-ruiz", "--expert", "ben-cole",
    )  # fmt: skip
    assert made.exit_code == 0, made
    pack_md = kb.packs_dir / "p1" / "pack.md"
    pack_md.write_text(pack_md.read_text().replace("(reviewer: ana-ruiz)", "(reviewer: ben-cole)"))
    reviewed = run(
        "pack", "checkpoint", "p1", "safety-basics", "--by", "ben-cole", "--outcome", "passed",
        "--date", "2026-01-09",
    )  # fmt: skip
    assert reviewed.exit_code == 0, reviewed
    assert run("index").exit_code == 0
    lock = kb.cache_dir / "sessions" / f"{gone}.lock"
    lock.parent.mkdir(exist_ok=True)
    lock.write_text("")
    result = run("forget", "--expert", "ben-cole", "--yes")
    assert result.exit_code == 0, result
    assert "took ben-cole out of experts" in result.stderr
    assert "ben-cole" not in (kb.packs_dir / "p1" / "reviews.yaml").read_text()
    assert "by: forgotten" in (kb.packs_dir / "p1" / "reviews.yaml").read_text()
    front, body = pack_md.read_text().split("---\n")[1:3]
    assert "ben-cole" not in front and "reviewer: ben-cole" not in body
    assert "reviewer: unassigned" in body
    assert not lock.exists()
    assert not list(kb.root.rglob("*ben-cole*"))
    built = run("pack", "build", "p1")
    assert built.exit_code == 0, built


# --- redaction reaches every derived text ----------------------------------------------------


def _add_term(kb, term: str) -> None:
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("terms = []", f'terms = ["{term}"]'))


def _bytes_under(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in folder.rglob("*") if p.is_file()).lower()


def test_a_redaction_term_added_after_indexing_is_hidden_at_once_and_leaves_no_copy(kb, run):

    assert run("expert", "add", "Ben Cole", "--topic", "heron permits").exit_code == 0
    gone = synthetic.write_session(
        kb, "ben-cole", "valves", [("Ben", "The purple heron valve opens after the bell.")]
    )
    transcript_exports.save_with_exports(
        kb, gone.id, transcript_model.of_session(kb, gone.id)
    )  # + .vtt, .srt
    assert run("index").exit_code == 0
    asked = run("ask", "when does the purple heron valve open?", "--json")
    assert "heron valve opens" in asked.stdout.lower()
    _add_term(kb, "heron")
    # at once, before any `tacit index`: answers, expert topics and the question log
    for args in (("ask", "when does the purple heron valve open?"), ("who-knows", "permits")):
        shown = json.loads(run(*args, "--json").stdout)
        if isinstance(shown, dict):
            shown.pop("query", None)
        assert "heron" not in json.dumps(shown).lower(), shown
    assert "[redacted]" in (kb.root / "questions.jsonl").read_text().splitlines()[-1]
    status = json.loads(run("index", "status", "--json").stdout)
    assert any("redaction" in r for r in status["stale"])
    indexed = run("index")
    assert indexed.exit_code == 0, indexed
    assert b"heron" not in _bytes_under(kb.cache_dir)  # Chroma's embeddings_queue included
    assert b"heron" not in (kb.root / "questions.jsonl").read_bytes().lower()
    folder = kb.session_dir(gone.id)
    for export in ("transcript.vtt", "transcript.srt"):
        assert b"heron" not in (folder / export).read_bytes().lower()
    assert "purple heron valve" in (folder / "transcript.json").read_text()  # the record stays


def test_a_speaker_named_by_a_term_added_after_indexing_is_masked_in_citations(kb, run):
    assert run("expert", "add", "Ben Cole").exit_code == 0
    said = [("Ana Quill", "The gate valve opens after the bell rings twice at the pump house.")]
    synthetic.write_session(kb, "ben-cole", "gates", said)
    assert run("index").exit_code == 0
    question = ("ask", "when does the gate valve open?", "--json", "--no-log")
    assert "Ana Quill" in run(*question).stdout
    _add_term(kb, "Quill")
    shown = json.loads(run(*question).stdout)
    assert shown["answer_source"] and shown["results"]
    assert "quill" not in json.dumps(shown).lower(), shown


def test_the_km_report_masks_expert_topics_and_question_text(kb, run):
    assert run("expert", "add", "Ben Cole", "--topic", "heron permits").exit_code == 0
    line = {"question": "who signs heron permits?", "not_captured": True, "cited": []}
    (kb.root / "questions.jsonl").write_text(json.dumps(line) + "\n")
    _add_term(kb, "heron")
    assert run("report").exit_code == 0
    text = (kb.root / "reports" / "km-report.md").read_text()
    assert "permits" in text and "heron" not in text.lower()


def test_exports_written_inside_the_kb_are_removed_by_forget(kb, run, tmp_path):
    _, gone = _two_sessions(kb, run)
    inside_kb = kb.root / "handouts" / "gone.vtt"
    outside_kb = tmp_path / "mine.vtt"
    for target in (inside_kb, outside_kb):
        wrote = run("export", gone, "--format", "vtt", "-o", target)
        assert wrote.exit_code == 0, wrote
    result = run("forget", "--session", gone, "--yes")
    assert result.exit_code == 0, result
    assert not inside_kb.exists()
    assert outside_kb.is_file() and "outside the knowledge base" in result.stderr


# --- speakers, media, terminal ---------------------------------------------------------------


def _speakers(run, session_id: str) -> dict[str, int]:
    shown = run("speakers", session_id, "--json")
    assert shown.exit_code == 0, shown
    return {row["speaker"]: row["segments"] for row in json.loads(shown.stdout)}


def test_a_rename_into_an_existing_speaker_needs_merge_and_can_be_undone(kb, run):
    turns = [("Maria Lopez", "I check the pumps."), ("Priya Shah", "I log the readings.")] * 2
    session = synthetic.write_session(kb, "ana-ruiz", "two", turns)
    before = _speakers(run, session.id)
    refused = run("speakers", session.id, "--rename", "Maria Lopez=Priya Shah")
    _one_line_error(refused)
    assert "--merge" in refused.stderr and _speakers(run, session.id) == before
    merged = run("speakers", session.id, "--rename", "Maria Lopez=Priya Shah", "--merge")
    assert merged.exit_code == 0, merged
    assert _speakers(run, session.id) == {"Priya Shah": 4}
    undone = run("speakers", session.id, "--undo")
    assert undone.exit_code == 0, undone
    assert _speakers(run, session.id) == before
    swapped = run("speakers", session.id, "--rename", "Maria Lopez=Priya Shah", "--rename",
                  "Priya Shah=Maria Lopez")  # fmt: skip
    assert swapped.exit_code == 0, swapped  # a swap merges nobody


def test_transcribe_force_never_reads_media_named_outside_the_kb(kb, run, tmp_path):
    from tacit.records.sessions import Media

    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"RIFF" + bytes(100))
    session = synthetic.write_session(
        kb,
        "ana-ruiz",
        "far",
        [("Ana", "Hello.")],
        media=(Media(file="../../../outside.wav", sha256="0" * 64),),
    )
    result = run("transcribe", session.id, "--force")
    _one_line_error(result)
    assert "outside" in result.stderr or "leaves" in result.stderr


def test_control_characters_from_data_never_reach_the_terminal(kb, run, tmp_path):
    vtt = tmp_path / "t.vtt"
    vtt.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Eve\x1b[2J\x1b]0;pwned\x07>Hello there\n"
    )
    assert run("expert", "add", "Ana Ruiz").exit_code == 0
    imported = run("import", vtt, "--expert", "ana-ruiz")
    listed = run("speakers", imported.stdout.strip()) if imported.exit_code == 0 else imported
    for result in (imported, listed):
        assert "\x1b" not in result.output and "\x07" not in result.output, result


def _until(condition, seconds: float = 60.0) -> bool:
    """Wait for a condition the test needs before it acts (a server up, a step reached)."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
            return True
    except OSError:
        return False


def test_a_chroma_server_stopped_during_index_gives_one_line(kb, run, tmp_path):
    from tests.test_index import _free_port

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    chroma = Path(sys.executable).parent / "chroma"
    args = ["run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "srv")]
    server = subprocess.Popen(
        [str(chroma), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert _until(lambda: _answers(url) or server.poll() is not None) and _answers(url)
        toml = kb.root / "tacit.toml"
        toml.write_text(toml.read_text().replace('chroma_url = ""', f'chroma_url = "{url}"'))
        _two_sessions(kb, run)
        flag = tmp_path / "paused"
        env = {**os.environ, **FAKE, "TACIT_KB": str(kb.root)}
        env["TACIT_FAULT"] = f"index:deleted=pause:{flag}"  # after the first server calls
        indexing = subprocess.Popen(
            [sys.executable, "-c", "from tacit.cli import main; main()", "index"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert _until(lambda: flag.exists() or indexing.poll() is not None) and flag.exists()
        server.kill()
        server.wait()
        flag.unlink()
        _, stderr = indexing.communicate(timeout=120)
    finally:
        server.kill()
        server.wait()
    assert indexing.returncode == 1, stderr
    assert "Traceback" not in stderr and "lost the Chroma server" in stderr
    assert len(stderr.strip().splitlines()) <= 2, stderr


def test_a_built_pack_masks_expert_topics_it_was_made_from(kb, run):
    _two_sessions(kb, run)
    assert run("expert", "edit", "ana-ruiz", "--topic", "heron permits").exit_code == 0
    assert run("index").exit_code == 0
    made = run(
        "pack", "new", "p1", "--role", "Operator", "--protege", "Dan", "--mentor", "Eve",
        "--start", "2026-01-05", "--weeks", "4", "--expert", "ana-ruiz",
    )  # fmt: skip
    assert made.exit_code == 0, made
    _add_term(kb, "heron")
    built = run("pack", "build", "p1")
    assert built.exit_code == 0, built
    for path in (kb.packs_dir / "p1" / "build").iterdir():
        text = path.read_text().lower()
        assert "permits" in text and "heron" not in text, path


def test_forget_session_takes_pack_references_to_it_out(kb, run):
    _, gone = _two_sessions(kb, run)
    assert run("index").exit_code == 0
    made = run(
        "pack", "new", "p1", "--role", "Operator", "--protege", "Dan", "--mentor", "Eve",
        "--start", "2026-01-05", "--weeks", "4", "--expert", "ana-ruiz",
    )  # fmt: skip
    assert made.exit_code == 0, made
    pack_md = kb.packs_dir / "p1" / "pack.md"
    text = pack_md.read_text()
    task = f"- [week 2] Bleed the loop (session: {gone}, step: 1)\n"
    pack_md.write_text(text.replace("## Practice tasks\n", f"## Practice tasks\n\n{task}", 1))
    assert gone in pack_md.read_text()
    result = run("forget", "--session", gone, "--yes")
    assert result.exit_code == 0, result
    assert "removed 1 reference(s) to forgotten sessions" in result.stderr
    assert gone not in pack_md.read_text() and "Bleed the loop" in pack_md.read_text()
    built = run("pack", "build", "p1")
    assert built.exit_code == 0, built
