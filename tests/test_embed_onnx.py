"""The embedding model on ONNX Runtime: the real bundled model, its real ONNX export, real
Chroma and BM25. No fakes here.

The export is made once for the module, by the first `tacit index` of a small KB, in a model
cache of the module's own ($TACIT_MODELS); tests that damage it work on a copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tacit.core import config, model_paths, workspace
from tacit.index import embedder, onnx_embed, torch_model
from tacit.records import experts, sessions
from tacit.records import transcript as transcript_model

TURNS = [
    ("Priya Shah", "What trips boiler two on a cold morning?"),
    (
        "Maria Lopez",
        "Nine times out of ten it is the low water cutout. The feed pump strainer clogs with "
        "scale, the level drops, and the cutout kills the burner. Clean the strainer first, then "
        "reset at the burner panel.",
    ),
    ("Priya Shah", "And the chlorine analyser in the lab?"),
    (
        "Maria Lopez",
        "It drifts after a week. Calibrate it with the pH 7 buffer from the fridge and write the "
        "reading in the blue book before you trust it again.",
    ),
]
QUESTION = "Why does boiler two shut off on cold mornings?"
# real sentences, none of them among the export's own check sentences
SENTENCES = [
    QUESTION,
    "Where do we keep the spare impeller for pump P-101?",
    TURNS[1][1],
    TURNS[3][1],
    "Ja, das Ventil klemmt im Winter; on le graisse tous les lundis.",
    " ".join(t for _, t in TURNS) * 4,  # past the model's 256-token limit
]
HEAVY = ("torch", "sentence_transformers", "transformers")


def _model_path() -> str:
    return model_paths.embedding_model(config.default_config())


def _build(root: Path) -> None:
    from tacit.index import indexer

    ws = workspace.init(root, "onnx tests")
    experts.add(ws, "Maria Lopez", role="Boiler Operator", topics=("steam boilers",))
    session = sessions.create(ws, "maria-lopez", "interview", "boilers")
    segments, clock = [], 2.0
    for speaker, text in TURNS:
        length = len(text.split()) / 2.5
        segments.append(transcript_model.Segment(clock, round(clock + length, 2), speaker, text))
        clock = round(clock + length + 1.0, 2)
    transcript = transcript_model.Transcript(
        segments=tuple(segments), media_file="", duration=segments[-1].end
    )
    transcript_model.save(transcript_model.path(ws, session.id), transcript)
    indexer.run(ws)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(kb, model cache): the cache starts empty, so this first index makes the export."""
    cache = tmp_path_factory.mktemp("models")
    kb_root = tmp_path_factory.mktemp("onnx") / "kb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(model_paths.CACHE_ENV, str(cache))
        patch.delenv(embedder.RUNTIME_ENV, raising=False)
        embedder._onnx_embedder.cache_clear()  # another test's session would stand in for it
        _build(kb_root)
    return kb_root, cache


@pytest.fixture
def qa(built, tmp_path, monkeypatch):
    """A private copy of the built KB; the module's model cache."""
    source, cache = built
    root = tmp_path / "qa"
    shutil.copytree(source, root)
    monkeypatch.setenv("TACIT_KB", str(root))
    monkeypatch.setenv(model_paths.CACHE_ENV, str(cache))
    monkeypatch.delenv(embedder.RUNTIME_ENV, raising=False)
    embedder._onnx_embedder.cache_clear()  # each test loads the export it is given
    return workspace.current(), cache


@pytest.fixture
def own_cache(qa, tmp_path, monkeypatch):
    """A private copy of the model cache, for tests that damage or remove the export."""
    _, cache = qa
    copy = tmp_path / "models"
    shutil.copytree(cache, copy)
    monkeypatch.setenv(model_paths.CACHE_ENV, str(copy))
    return copy


def _export_folder(model_id: str) -> Path:
    return onnx_embed.folder_for(model_id)


def _top(result) -> str:
    assert result.exit_code == 0, result
    return json.loads(result.stdout)["results"][0]["chunk_id"]


def test_first_index_makes_a_checked_export_keyed_by_the_model_outside_the_kb(qa):
    ws, cache = qa
    model_id = embedder.model_identity(_model_path())
    folder = _export_folder(model_id)
    assert folder.parent.parent == cache and model_id.split("@")[1] in folder.name
    meta = json.loads((folder / onnx_embed.META_FILE).read_text())
    assert meta["source"] == model_id and meta["check"]["min_cosine"] >= onnx_embed.MIN_COSINE
    for name in (onnx_embed.MODEL_FILE, onnx_embed.TOKENIZER_FILE):
        assert meta["sha256"][name] == onnx_embed.sha256_bytes((folder / name).read_bytes())
    inside = [p for p in ws.root.rglob("*") if p.suffix == ".onnx"]
    assert inside == []
    from tacit.index import manifest

    assert manifest.load(ws).model == model_id  # the runtime is not part of the model's identity


def test_onnx_and_pytorch_vectors_agree_on_real_sentences(qa):
    onnx_model = embedder.ModelEmbedder(_model_path(), threads=1)
    onnx_vectors = onnx_model.embed(SENTENCES)
    assert onnx_model.runtime == "onnx"
    on_torch = embedder.SentenceTransformerEmbedder(_model_path())
    assert on_torch.model_id == onnx_model.model_id
    float32 = torch_model.load(_model_path()).encode(
        SENTENCES, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert (onnx_vectors * float32).sum(axis=1).min() >= 0.9999
    as_fallback = on_torch.embed(SENTENCES)  # today's PyTorch path (bfloat16 where it can)
    assert (onnx_vectors * as_fallback).sum(axis=1).min() >= 0.9999
    one_by_one = np.vstack([onnx_model.embed([s]) for s in SENTENCES])  # no padding
    assert (one_by_one * onnx_vectors).sum(axis=1).min() >= 0.9999
    assert onnx_model.embed([]).shape == (0, 384)


_COLD = """
import json, sys
from tacit.cli import app
HEAVY = ("torch", "sentence_transformers", "transformers")
seen = {}
def run(name, *args):
    try:
        code = app(list(args), standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
    assert not code, (name, code)
    seen[name] = [m for m in HEAVY if m in sys.modules]
run("ask", "ask", sys.argv[1], "--no-log", "--json")
run("ask --file", "ask", "--file", sys.argv[2], "--no-log")
run("who-knows", "who-knows", "steam boilers", "--json")
sys.stdin = open(sys.argv[2])
run("chat", "chat", "--no-log")
sys.stderr.write(json.dumps(seen) + "\\n")
"""


def test_cold_query_commands_never_import_torch(qa, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{QUESTION}\nWho calibrates the chlorine analyser?\n")
    proc = subprocess.run(
        [sys.executable, "-c", _COLD, QUESTION, str(questions)],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stderr.strip().splitlines()[-1])
    assert seen == {"ask": [], "ask --file": [], "who-knows": [], "chat": []}
    answer = json.loads(proc.stdout[: proc.stdout.index("\n}") + 2])
    assert "strainer" in answer["answer"]
    assert "Traceback" not in proc.stderr and "PyTorch" not in proc.stderr


def test_pytorch_runtime_serves_the_same_index_without_rebuild(qa, run, monkeypatch):
    onnx_top = _top(run("ask", QUESTION, "--no-log", "--json"))
    monkeypatch.setenv(embedder.RUNTIME_ENV, "torch")
    result = run("ask", QUESTION, "--no-log", "--json")
    assert _top(result) == onnx_top and "rebuild" not in result.stderr
    monkeypatch.setenv(embedder.RUNTIME_ENV, "gpu")
    bad = run("ask", QUESTION, "--no-log")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1
    assert "TACIT_EMBED_RUNTIME must be auto, onnx or torch" in bad.stderr


def test_damaged_export_is_made_again_with_a_message(own_cache, run):
    model_id = embedder.model_identity(_model_path())
    graph = _export_folder(model_id) / onnx_embed.MODEL_FILE
    data = bytearray(graph.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\0" * 64  # same size, other bytes
    graph.write_bytes(bytes(data))
    result = run("ask", QUESTION, "--no-log", "--json")
    assert _top(result)
    assert "do not match their recorded sha256): making it again" in result.stderr
    assert "making the ONNX form" in result.stderr and "Traceback" not in result.stderr
    assert onnx_embed.load(model_id) is not None  # remade, and its hashes match again


def test_missing_export_is_made_by_prepare_and_found_next_time(own_cache, run):
    shutil.rmtree(own_cache / "onnx")
    made = run("models", "prepare", "--json")
    assert made.exit_code == 0, made
    assert json.loads(made.stdout)["made"] is True and "making the ONNX form" in made.stderr
    again = run("models", "prepare", "--json")
    found = json.loads(again.stdout)
    assert found["made"] is False and found["min_cosine"] >= onnx_embed.MIN_COSINE
    assert Path(found["folder"]).parent.parent == own_cache


def test_export_that_cannot_be_made_falls_back_to_pytorch_in_one_line(
    qa, run, tmp_path, monkeypatch
):
    onnx_top = _top(run("ask", QUESTION, "--no-log", "--json"))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the model cache should be\n")
    monkeypatch.setenv(model_paths.CACHE_ENV, str(blocked))
    embedder._onnx_embedder.cache_clear()
    result = run("ask", QUESTION, "--no-log", "--json")
    assert _top(result) == onnx_top  # same index, no rebuild
    (line,) = [x for x in result.stderr.splitlines() if "PyTorch" in x]
    assert "cannot use the model cache" in line and "Traceback" not in result.stderr
    monkeypatch.setenv(embedder.RUNTIME_ENV, "onnx")  # insisting on ONNX: an error, not a guess
    refused = run("ask", QUESTION, "--no-log")
    assert refused.exit_code == 1 and "no ONNX form of the embedding model" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_changed_model_asks_for_rebuild_and_gets_its_own_export(qa, run, tmp_path):
    ws, cache = qa
    changed = tmp_path / "changed-model"
    shutil.copytree(_model_path(), changed)
    settings = changed / "sentence_bert_config.json"
    settings.write_text(settings.read_text().replace("256", "128"))  # other vectors for long text
    toml = ws.root / "tacit.toml"
    toml.write_text(toml.read_text().replace('embedding = ""', f'embedding = "{changed}"'))
    asked = run("ask", QUESTION, "--no-log")
    assert asked.exit_code != 0 and "--rebuild" in asked.stdout + asked.stderr
    indexed = run("index")
    assert indexed.exit_code != 0 and "--rebuild" in indexed.stderr
    assert "Traceback" not in asked.stderr + indexed.stderr
    rebuilt = run("index", "--rebuild")
    assert rebuilt.exit_code == 0, rebuilt
    assert _top(run("ask", QUESTION, "--no-log", "--json"))
    old, new = embedder.model_identity(_model_path()), embedder.model_identity(str(changed))
    assert old != new
    assert _export_folder(old).is_dir() and _export_folder(new).is_dir()
    assert json.loads((_export_folder(new) / onnx_embed.META_FILE).read_text())["source"] == new


def test_stale_export_is_recognised_before_it_is_used(own_cache):
    model_id = embedder.model_identity(_model_path())
    meta_path = _export_folder(model_id) / onnx_embed.META_FILE
    meta = json.loads(meta_path.read_text())
    for change, reason in (
        ({"format": onnx_embed.FORMAT - 1}, "format"),
        ({"source": "all-MiniLM-L6-v2@000000000000"}, "another model"),
        ({"sha256": {}}, "sha256"),
    ):
        meta_path.write_text(json.dumps({**meta, **change}))
        with pytest.raises(onnx_embed.ExportUnavailable, match=reason):
            onnx_embed.load(model_id)
    meta_path.write_text("{not json")
    with pytest.raises(onnx_embed.ExportUnavailable, match="cannot read"):
        onnx_embed.load(model_id)
    meta_path.unlink()
    assert onnx_embed.load(model_id) is None  # missing: made on first use
