"""SIGKILL at each stage of `tacit index`; the next run must finish the job with no duplicates.

The crash loop uses the FAKE embedder (TACIT_TEST_EMBEDDER=fake: hashed words, instant) so that
it can afford many runs; tests/test_index.py kills a run that uses the real model.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys

import pytest

from tacit.core import workspace
from tacit.index import chunker, lexical, manifest, store, synthetic


def _index(ws, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TACIT_KB": str(ws.root), "TACIT_TEST_EMBEDDER": "fake"}
    env.pop("TACIT_INDEX_KILL_AT", None)
    if kill_at:
        env["TACIT_INDEX_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-c", "from tacit.cli import main; main()", "index"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _write(ws, seed: int) -> list:
    """Three sessions in small passages: about 150 chunks, several embedding steps of 32."""
    toml = ws.root / "tacit.toml"
    toml.write_text(re.sub(r"chunk_words = \d+", "chunk_words = 20", toml.read_text(), count=1))
    rng = random.Random(seed)
    return [
        synthetic.write_session(ws, expert, f"talk-{n}", synthetic.turns(rng, 40))
        for n, expert in enumerate(("maria-lopez", "sam-okafor", "maria-lopez"))
    ]


def _state(ws) -> tuple[list[str], set[str], set[str]]:
    vectors = store.ChromaStore(ws)
    try:
        stored = sorted(vectors.ids())
        assert vectors.count() == len(stored)
    finally:
        vectors.close(drop=True)
    indexed = manifest.load(ws)
    return stored, {c.id for c in lexical.stored_chunks(ws)}, set(indexed.chunks if indexed else ())


def _assert_complete(ws) -> set[str]:
    wanted = {c.id for c in chunker.chunk_kb(workspace.current())}
    stored, lexical_ids, manifest_ids = _state(ws)
    assert len(stored) == len(set(stored)), "duplicate chunks in the vector store"
    assert set(stored) == lexical_ids == manifest_ids == wanted
    return wanted


@pytest.mark.parametrize("stage", ["embedded:2", "stored:1", "lexical", "manifest"])
def test_sigkill_during_first_build_then_reindex_completes(kb, stage):
    _write(kb, seed=1)
    killed = _index(kb, stage)
    assert killed.returncode == -9, killed.stderr
    finished = _index(kb)
    assert finished.returncode == 0, finished.stderr
    _assert_complete(kb)


@pytest.mark.parametrize("stage", ["deleted", "stored:1"])
def test_sigkill_during_an_update_then_reindex_completes(kb, stage):
    made = _write(kb, seed=2)
    assert _index(kb).returncode == 0
    # edit one session, delete another, add a third: every kind of change in one run
    shutil.rmtree(kb.session_dir(made[2].id))
    synthetic.write_session(kb, "sam-okafor", "talk-new", synthetic.turns(random.Random(3), 30))
    path = kb.session_dir(made[0].id) / "transcript.json"
    path.write_text(path.read_text().replace("What happens", "And what happens"))
    killed = _index(kb, stage)
    assert killed.returncode == -9, killed.stderr
    assert _index(kb).returncode == 0
    _assert_complete(kb)


def test_after_crashes_the_chunk_set_equals_a_clean_build(kb, tmp_path):
    _write(kb, seed=4)
    for stage in ("stored:2", "embedded:1"):
        assert _index(kb, stage).returncode == -9
    assert _index(kb).returncode == 0
    crashed = _assert_complete(kb)
    # a clean build from a copy of the same plain files
    clean_root = tmp_path / "clean"
    shutil.copytree(kb.root, clean_root, ignore=shutil.ignore_patterns(".tacit"))
    clean = workspace.Workspace(root=clean_root, config=kb.config)
    assert _index(clean).returncode == 0
    stored, lexical_ids, _ = _state(clean)
    assert set(stored) == lexical_ids == crashed
