"""`tacit index` against the real embedding model and real Chroma (embedded and a server)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from tacit.admin import pending
from tacit.ask.retriever import Filters, Retriever
from tacit.core import workspace
from tacit.core.errors import IndexMismatch
from tacit.index import chunker, lexical, manifest, store, synthetic, upkeep
from tacit.records import sessions
from tacit.records import transcript as tr

PUMPS = [
    ("Ana", "Let's start with the pumps. What catches new people out?"),
    (
        "Maria Lopez",
        "Pump 1 shakes above 48 hertz since the impeller was replaced. Cap its drive at 47. "
        "The vibration relay trips at 7.1 millimetres per second otherwise.",
    ),
    ("Ana", "And the level reading in well A?"),
    (
        "Maria Lopez",
        "The ultrasonic sensor LT-101 reads about fifteen centimetres high on sunny afternoons. "
        "Walk out and read the painted gauge board by the hatch before you touch a setpoint.",
    ),
    ("Ana", "Who looks after the drives?"),
    (
        "Maria Lopez",
        "Hendry Electrical. Ask for the duty engineer by name, never the switchboard. "
        "Their standby number is on the sticker inside the MCC door.",
    ),
    ("Ana", "What does fault E-414 mean?"),
    (
        "Maria Lopez",
        "E-414 is the drive telling you the DC bus voltage dropped, usually after a grid dip. "
        "Reset it once. If it comes back inside an hour, swap to pump 3 and log it.",
    ),
]
BOILER = [
    ("Ana", "Tell me about the boiler house."),
    (
        "Sam Okafor",
        "Boiler two locks out when the gas pressure falls below eighteen millibar on cold "
        "mornings. Purge it twice before a restart, and never bypass the flame detector.",
    ),
    ("Ana", "Anything about the condensate?"),
    (
        "Sam Okafor",
        "The condensate tank overflows if the float valve sticks. Tap the valve body with the "
        "wooden mallet that hangs on the hook, then check the sight glass.",
    ),
]
SECRET = [
    ("Ana", "Anything about the chemical store?"),
    ("Maria Lopez", "The hypochlorite bund has a crack near the drain. Zanzibar tape holds it."),
]


def _ws() -> workspace.Workspace:
    return workspace.current()


def _write_kb(ws) -> dict[str, sessions.Session]:
    """Two sessions in small passages (chunk_words = 30), so that an edit touches few of them."""
    _set_toml(ws, r"chunk_words = \d+", "chunk_words = 30")
    return {
        "pumps": synthetic.write_session(ws, "maria-lopez", "pumps", PUMPS),
        "boiler": synthetic.write_session(ws, "sam-okafor", "boiler", BOILER),
    }


def _index(run, *args: str) -> dict:
    result = run("index", "--json", *args)
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def _stored(ws, session: str | None = None) -> list[str]:
    """Ids in the vector store (of one session), duplicates included."""
    vectors = store.ChromaStore(ws)
    try:
        clause = {"session": session} if session else None
        page = vectors._collection().get(where=clause, include=[], limit=100_000)
        return page["ids"]
    finally:
        vectors.close()


def _assert_consistent(ws) -> set[str]:
    """The vector store, the lexical index and the manifest hold exactly the chunks the files
    give, once each."""
    ws = workspace.Workspace(root=ws.root, config=_ws().config)  # tacit.toml as it is now
    wanted = {c.id for c in chunker.chunk_kb(ws)}
    stored = _stored(ws)
    assert len(stored) == len(set(stored)), "duplicates in the vector store"
    assert set(stored) == wanted
    assert {c.id for c in lexical.stored_chunks(ws)} == wanted
    assert set(manifest.load(ws).chunks) == wanted
    return wanted


def _edit_turn(ws, session, index: int, text: str) -> None:
    path = tr.path(ws, session.id)
    old = tr.load(path)
    segments = list(old.segments)
    segments[index] = replace(segments[index], text=text)
    tr.save(path, replace(old, segments=tuple(segments)))


def _other_model(tmp_path: Path) -> Path:
    """The same weights under a different configuration file: a different model for tacit."""
    from tacit.core import config, model_paths

    source = Path(model_paths.embedding_model(config.default_config()))
    target = tmp_path / "other-model"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("model.safetensors"))
    (target / "model.safetensors").symlink_to(source / "model.safetensors")
    meta = target / "config_sentence_transformers.json"
    meta.write_text(meta.read_text() + "\n")
    return target


def _set_toml(ws, old: str, new: str) -> None:
    """Replace a line's start in tacit.toml: old is a regular expression."""
    path = ws.root / "tacit.toml"
    text, count = re.subn(old, new, path.read_text(), count=1)
    assert count == 1, old
    path.write_text(text)


def _flow(kb, run, tmp_path) -> None:
    """Index twice, edit, move, delete, crash, mismatch: the whole contract, on one store."""
    made = _write_kb(kb)
    ws = _ws()
    first = _index(run)
    assert first["chunks"] > 4 and first["embedded"] == first["added"] == first["chunks"]
    ids = _assert_consistent(ws)

    again = _index(run)
    assert (again["added"], again["removed"], again["embedded"]) == (0, 0, 0)

    # editing one session re-embeds only its changed chunks
    boiler_ids = {i for i in ids if i.startswith(made["boiler"].id)}
    _edit_turn(ws, made["pumps"], 3, "The level sensor LT-101 reads high in sunshine.")
    edited = _index(run)
    now = _assert_consistent(ws)
    assert boiler_ids <= now
    added, removed = now - ids, ids - now
    assert added and all(i.startswith(made["pumps"].id) for i in added | removed)
    assert edited["added"] == len(added) and edited["removed"] == len(removed)
    assert edited["embedded"] == len(
        {c.content_hash for c in chunker.chunk_kb(ws) if c.id in added}
    )

    # moving unchanged text (a question stamp moves, so chunk ids change) embeds nothing
    session = sessions.get(ws, made["pumps"].id)
    answers = (
        sessions.Answer("q1", "Pumps", "What about pump 1?", "Cap it at 47.", "answered", 9),
    )
    sessions.update(ws, session, answers=answers)
    assert _index(run)["embedded"] == 1
    sessions.update(ws, sessions.get(ws, session.id), answers=(replace(answers[0], at=30.0),))
    moved = _index(run)
    assert moved["added"] >= 1 and moved["embedded"] == 0 and moved["cached"] == moved["added"]
    _assert_consistent(ws)

    # a session deleted from the files leaves both indexes
    shutil.rmtree(ws.session_dir(made["boiler"].id))
    assert _index(run)["removed"] == len(boiler_ids)
    _assert_consistent(ws)
    assert _stored(ws, made["boiler"].id) == []
    retriever = Retriever(ws)
    assert retriever.search("condensate float valve mallet", method="lexical") == []
    assert retriever.search("boiler gas pressure", filters=Filters(session=made["boiler"].id)) == []
    found = retriever.search("why does pump one vibrate", k=3)
    assert {h.chunk.session for h in found} == {made["pumps"].id}
    assert any("48 hertz" in h.chunk.text for h in found)

    # SIGKILL halfway through an index run, then the next run finishes the job
    synthetic.write_session(ws, "sam-okafor", "boiler-again", BOILER)
    killed = _index_in_child(ws, "stored:1")
    assert killed.returncode == -9, killed.stderr
    _index(run)
    _assert_consistent(ws)

    # another model is refused until --rebuild, by the indexer and by the retriever
    _set_toml(ws, 'embedding = ""', f'embedding = "{_other_model(tmp_path)}"')
    refused = run("index")
    assert refused.exit_code == 1 and "--rebuild" in refused.stderr, refused
    assert "Traceback" not in refused.output
    with pytest.raises(IndexMismatch):
        Retriever(_ws()).search("pump")
    rebuilt = _index(run, "--rebuild")
    assert rebuilt["rebuilt"] and rebuilt["embedded"] == rebuilt["chunks"]
    assert _ws().config.models["embedding"] in manifest.load(_ws()).model_path
    _assert_consistent(_ws())


def _index_in_child(ws, kill_at: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TACIT_KB": str(ws.root), "TACIT_INDEX_KILL_AT": kill_at}
    code = "from tacit.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "index"], env=env, capture_output=True, text=True, timeout=300
    )


def test_index_flow_on_embedded_chroma(kb, run, tmp_path):
    _flow(kb, run, tmp_path)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on a free loopback port, stopped after the test."""
    port = _free_port()
    chroma = Path(sys.executable).parent / "chroma"
    args = ["run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "srv")]
    with open(tmp_path / "chroma.log", "wb") as log:
        proc = subprocess.Popen([str(chroma), *args], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"chroma run did not start: {(tmp_path / 'chroma.log').read_text()}"
                    )
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_index_flow_on_a_chroma_server(kb, run, tmp_path, chroma_server):
    _set_toml(kb, 'chroma_url = ""', f'chroma_url = "{chroma_server}"')
    _flow(kb, run, tmp_path)
    assert not store.index_dir(kb).exists(), "a server store must not write .tacit/index"
    assert "Chroma server" in upkeep.check_reachable(_ws())


def _garbage_sqlite(folder: Path) -> None:
    (folder / "chroma.sqlite3").write_bytes(b"this is not a database" * 500)


def _truncated_sqlite(folder: Path) -> None:
    path = folder / "chroma.sqlite3"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


@pytest.mark.parametrize("damage", [_garbage_sqlite, _truncated_sqlite])
def test_a_corrupt_index_folder_is_rebuilt_from_the_files(kb, run, damage):
    _write_kb(kb)
    built = _index(run)
    damage(store.index_dir(kb))
    with pytest.raises(Exception, match="unreadable"):
        upkeep.check_reachable(kb)
    result = run("index", "--json")
    assert result.exit_code == 0, result
    assert "could not be read" in result.stderr and "rebuilding" in result.stderr
    report = json.loads(result.stdout)
    assert report["rebuilt"] and report["chunks"] == built["chunks"]
    assert report["embedded"] == 0, "vectors come back from the embedding cache"
    _assert_consistent(kb)
    assert Retriever(_ws()).search("LT-101 sensor reads high", k=1)[0].chunk.expert == "maria-lopez"


def test_a_damaged_vector_segment_is_detected_and_rebuilt(kb):
    """Chroma rebuilds a small HNSW segment from its write log by itself; past its flush size
    (1,000 records) the segment files are all there is. FAKE embedder: 1,100 chunks fast."""
    from tacit.index import indexer
    from tacit.index.embedder import FakeEmbedder

    _set_toml(kb, r"chunk_words = \d+", "chunk_words = 15")
    rng = random.Random(5)
    for n in range(4):
        synthetic.write_session(kb, "maria-lopez", f"long-{n}", synthetic.turns(rng, 150))
    ws = _ws()
    first = indexer.run(ws, embedder=FakeEmbedder())
    assert first.chunks > 1000
    for segment in (p for p in store.index_dir(ws).iterdir() if p.is_dir()):
        for file in segment.iterdir():
            file.write_bytes(os.urandom(64))
    notes: list[str] = []
    again = indexer.run(ws, embedder=FakeEmbedder(), notify=notes.append)
    assert again.rebuilt and again.embedded == 0 and "could not be read" in notes[0]
    assert upkeep.probe(store.index_dir(ws))[0]
    _assert_consistent(ws)


def test_restricted_chunks_and_filters(kb, run):
    made = _write_kb(kb)
    secret = synthetic.write_session(kb, "maria-lopez", "chem", SECRET, restricted=True)
    _index(run)
    retriever = Retriever(kb)
    for method in ("hybrid", "dense", "lexical"):
        hits = retriever.search("hypochlorite bund crack zanzibar tape", k=20, method=method)
        assert secret.id not in {h.chunk.session for h in hits}
        allowed = Filters(include_restricted=True)
        found = retriever.search("hypochlorite bund crack", k=3, filters=allowed, method=method)
        assert found[0].chunk.session == secret.id and found[0].chunk.restricted
        mine = retriever.search(
            "pressure", k=20, filters=Filters(expert="sam-okafor"), method=method
        )
        assert mine and {h.chunk.session for h in mine} == {made["boiler"].id}
        none = retriever.search("pump", filters=Filters(kind="observation"), method=method)
        assert none == []
    hit = retriever.search("E-414 fault", k=1)[0]
    assert hit.dense_score is not None and hit.lexical_score is not None and hit.score > 0


def test_status_tells_what_is_stale(kb, run):
    made = _write_kb(kb)
    before = json.loads(run("index", "status", "--json").stdout)
    assert not before["up_to_date"] and "never indexed" in before["stale"][0]
    _index(run)
    after = json.loads(run("index", "status", "--json").stdout)
    assert after["up_to_date"] and after["sessions"] == 2 and after["indexed_sessions"] == 2
    assert after["chunks"] == len(chunker.chunk_kb(_ws())) and after["last_indexed"]
    _edit_turn(kb, made["boiler"], 1, "Boiler two is fine now.")
    stale = json.loads(run("index", "status", "--json").stdout)
    assert not stale["up_to_date"] and stale["stale_sessions"] == [made["boiler"].id]
    text = run("index", "status")
    assert text.exit_code == 0 and "stale" in text.stdout and made["boiler"].id in text.stdout
    _index(run)

    # new redaction settings re-embed exactly the chunks whose masked text changed
    _set_toml(kb, r"terms = \[\]", 'terms = ["Hendry Electrical"]')
    masked = json.loads(run("index", "status", "--json").stdout)
    assert "redaction settings changed since the last index" in masked["stale"]
    touched = [c for c in chunker.chunk_kb(_ws()) if "[redacted]" in c.text]
    report = _index(run)
    assert len(touched) == 1 and report["embedded"] == report["added"] == report["removed"] == 1
    assert Retriever(_ws()).search("Hendry Electrical", method="lexical") == []


def test_index_files_are_private_and_the_lock_is_held(kb, run):
    _write_kb(kb)
    _index(run)
    for path in [kb.cache_dir, *kb.cache_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    with pending.writer_lock(kb):
        busy = subprocess.run(
            [sys.executable, "-c", "from tacit.cli import main; main()", "index"],
            env={**os.environ, "TACIT_KB": str(kb.root), "TACIT_LOCK_TIMEOUT": "0.2"},
            capture_output=True,
            text=True,
        )
    assert busy.returncode == 1 and "another tacit command" in busy.stderr


def test_forget_helpers_leave_no_byte_of_a_session(kb, run):
    made = _write_kb(kb)
    _index(run)
    ws = _ws()
    assert upkeep.delete_session(ws, made["boiler"].id) == len(
        [c for c in chunker.chunk_kb(ws) if c.session == made["boiler"].id]
    )
    shutil.rmtree(ws.session_dir(made["boiler"].id))
    upkeep.vacuum(ws)
    for path in ws.cache_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"condensate" not in data and b"millibar" not in data, path
            assert made["boiler"].id.encode() not in data, path
    _assert_consistent(ws)
    assert _index(run)["embedded"] == 0
    assert Retriever(ws).search("pump 1 vibration", k=1)[0].chunk.session == made["pumps"].id
