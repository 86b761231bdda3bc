"""The embedding model on ONNX Runtime: exported once from sentence-transformers, then loaded
without torch (a cold `ask` pays ~0.3 s for the model instead of ~4 s for importing torch).

The export holds the whole sentence-transformers pipeline (transformer, pooling, normalising)
as one graph, plus the tokenizer as sentence-transformers configures it (truncation at the
model's max_seq_length). It lives in the per-user model cache
(`tacit.core.model_paths.cache_dir()`), in a folder named by the source model's
fingerprint, so a changed model never meets an old export. Before it is kept, its vectors
are checked against the PyTorch model's on
CHECK_SENTENCES (cosine >= MIN_COSINE): the two runtimes then count as the same model, and
falling back to PyTorch needs no rebuild. Each load checks the files against their sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

FORMAT = 3  # bump when the export's layout or graph changes: older exports are remade
OPSET = 17
MIN_COSINE = 0.9999
MODEL_FILE, TOKENIZER_FILE, META_FILE = "model.onnx", "tokenizer.json", "export.json"
LOCK_TIMEOUT = 600  # seconds to wait for another process that is making the same export
CHECK_SENTENCES = (
    "How do you restart the chiller after a power cut?",
    "Who knows the old SCADA alarm codes?",
    "We always open the second fan early in summer, because the cooling loop runs warm and "
    "the pressure on pump P-101 climbs past 4.5 bar before lunch; nobody wrote that down.",
    "Ärger mit der Pumpe: ¿qué hacemos cuando el filtro se atasca? 配管の圧力が高い。",
    # longer than the model's input limit: the truncation must match too
    " ".join(
        f"step {n}: check valve V-{n:03d} and note the reading in the log book." for n in range(60)
    ),
    "ok",
)


class ExportUnavailable(Exception):
    """No usable ONNX form: the reason, in words, for a one-line message."""


@dataclass(frozen=True)
class Export:
    folder: Path
    meta: dict

    @property
    def dimension(self) -> int:
        return int(self.meta["dimension"])


def folder_for(model_id: str) -> Path:
    """The cache folder of one source model: its name and fingerprint, nothing else."""
    from tacit.core import model_paths

    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", model_id).strip("-.") or "model"
    return model_paths.cache_dir() / "onnx" / f"{safe}-v{FORMAT}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load(model_id: str) -> tuple[Export, bytes] | None:
    """The export and its graph's bytes, checked; None when there is none.
    Raises ExportUnavailable when one is there but damaged or made from something else."""
    folder = folder_for(model_id)
    meta_path = folder / META_FILE
    if not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        graph = (folder / MODEL_FILE).read_bytes()
        tokenizer = (folder / TOKENIZER_FILE).read_bytes()
    except (OSError, ValueError) as exc:
        raise ExportUnavailable(f"cannot read it ({type(exc).__name__})") from None
    if not isinstance(meta, dict) or meta.get("source") != model_id:
        raise ExportUnavailable("it was made from another model")
    if meta.get("format") != FORMAT:
        raise ExportUnavailable(f"it has format {meta.get('format')}, not {FORMAT}")
    hashes = meta.get("sha256") or {}
    if hashes.get(MODEL_FILE) != sha256_bytes(graph) or hashes.get(TOKENIZER_FILE) != sha256_bytes(
        tokenizer
    ):
        raise ExportUnavailable("its files do not match their recorded sha256")
    return Export(folder, meta), graph


class OnnxEmbedder:
    """Unit-length vectors from an export, on ONNX Runtime's CPU provider; no torch."""

    def __init__(
        self, export: Export, graph: bytes, model_id: str, threads: int = 0, batch_size: int = 32
    ):
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ExportUnavailable(f"{exc.name} is not installed") from None

        self.export, self.batch_size = export, batch_size
        self._model_id = model_id
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # threads that wait by sleeping, not spinning: on 2 cores shared with other work
        # (load 3.2), 2 threads gave 24.1 chunks/s spinning, 27.9 not, 1 thread 28.6
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self.session = onnxruntime.InferenceSession(
                graph, options, providers=["CPUExecutionProvider"]
            )
            self.tokenizer = Tokenizer.from_file(str(export.folder / TOKENIZER_FILE))
        except Exception as exc:  # noqa: BLE001  (any load failure means: remake or fall back)
            raise ExportUnavailable(f"ONNX Runtime cannot load it ({type(exc).__name__})") from None
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.lower = bool(export.meta.get("do_lower_case"))
        self.pad_id = int(export.meta.get("pad_id") or 0)

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self.export.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # as sentence-transformers does: strip, lower-case where the model says so
        cleaned = [str(t).strip() for t in texts]
        if self.lower:
            cleaned = [t.lower() for t in cleaned]
        encodings = self.tokenizer.encode_batch(cleaned)
        # longest first, batches of similar length: the least padding
        order = sorted(range(len(cleaned)), key=lambda i: -len(encodings[i].ids))
        vectors = np.empty((len(cleaned), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            vectors[rows] = self._run([encodings[i] for i in rows])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def _run(self, encodings: list[Any]) -> np.ndarray:
        import numpy as np

        width = max(len(e.ids) for e in encodings)
        feeds = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in self.inputs}
        feeds["input_ids"].fill(self.pad_id)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            feeds["input_ids"][row, :n] = enc.ids
            feeds["attention_mask"][row, :n] = enc.attention_mask
            if "token_type_ids" in feeds:
                feeds["token_type_ids"][row, :n] = enc.type_ids
        return self.session.run(None, feeds)[0]


def prepare(path: str, model_id: str, say: Any = None, force: bool = False) -> Export:
    """Make (or find, if another process just made it) the checked export of the model folder
    at `path`; returns it. Raises ExportUnavailable with the reason when it cannot be made."""
    from filelock import FileLock, Timeout

    folder = folder_for(model_id)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder) + ".lock", timeout=LOCK_TIMEOUT)
        lock.acquire()
    except (OSError, Timeout) as exc:
        raise ExportUnavailable(f"cannot use the model cache {folder.parent}: {exc}") from None
    try:
        try:
            found = None if force else load(model_id)
        except ExportUnavailable:
            found = None
        if found is not None:
            return found[0]
        if say:
            say(f"making the ONNX form of the embedding model {model_id} (once; ~10 s)…")
        return _export(path, model_id, folder)
    finally:
        lock.release()


def _export(path: str, model_id: str, folder: Path) -> Export:
    try:
        import onnx  # noqa: F401  (torch.onnx.export needs it; say so plainly if missing)
    except ImportError:
        raise ExportUnavailable("the onnx package is not installed (pip install onnx)") from None
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        meta = _write_export(path, model_id, work)
        export = Export(work, meta)
        graph = (work / MODEL_FILE).read_bytes()
        check = OnnxEmbedder(export, graph, model_id, threads=1)
        meta["check"] = _check(path, check)
        (work / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
        _drop_older_formats(folder)
    except ExportUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001  (a model the exporter cannot trace: fall back)
        raise ExportUnavailable(f"the export failed ({type(exc).__name__}: {exc})"[:300]) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Export(folder, meta)


def _drop_older_formats(folder: Path) -> None:
    """Exports of the same model in an older format: nothing reads them any more."""
    stem = folder.name.rsplit("-v", 1)[0]
    for old in folder.parent.glob(f"{stem}-v*"):
        suffix = old.name[len(stem) + 2 :]
        if old.is_dir() and suffix.isdigit() and int(suffix) < FORMAT:
            shutil.rmtree(old, ignore_errors=True)
            Path(f"{old}.lock").unlink(missing_ok=True)


def _write_export(path: str, model_id: str, work: Path) -> dict:
    """Export the graph and the tokenizer into `work`; returns the metadata (no check yet)."""
    import torch
    from tokenizers import Tokenizer

    from tacit.index import torch_model

    # the plain ("eager") attention: the pattern ONNX Runtime's optimizer fuses (see _fuse)
    model = torch_model.load(path, attention="eager")
    hf_tokenizer = model.tokenizer
    if not getattr(hf_tokenizer, "is_fast", False):
        raise ExportUnavailable("its tokenizer has no fast (tokenizers) form")
    names = [n for n in hf_tokenizer.model_input_names if n in _ACCEPTED]
    tokenizer = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
    tokenizer.enable_truncation(max_length=int(model.max_seq_length))
    tokenizer.no_padding()
    tokenizer.save(str(work / TOKENIZER_FILE))
    sample = hf_tokenizer(
        ["a short one", "and a somewhat longer second sentence"], padding=True, return_tensors="pt"
    )
    raw = work / "traced.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings: the check below is the real test
        torch.onnx.export(
            _pipeline(model, names).eval(),
            tuple(sample[n] for n in names),
            str(raw),
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes={
                **{n: {0: "batch", 1: "tokens"} for n in names},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    _optimize(_fuse(raw, model, work), work / MODEL_FILE)
    for leftover in (raw, work / "fused.onnx"):
        leftover.unlink(missing_ok=True)
    first = model[0]
    return {
        "format": FORMAT,
        "source": model_id,
        "source_path": path,
        "dimension": int(model.get_embedding_dimension()),
        "max_seq_length": int(model.max_seq_length),
        "do_lower_case": bool(getattr(first, "do_lower_case", False)),
        "pad_id": int(hf_tokenizer.pad_token_id or 0),
        "inputs": names,
        "opset": OPSET,
        "torch": torch.__version__,
        "sha256": {
            MODEL_FILE: sha256_bytes((work / MODEL_FILE).read_bytes()),
            TOKENIZER_FILE: sha256_bytes((work / TOKENIZER_FILE).read_bytes()),
        },
    }


_ACCEPTED = ("input_ids", "token_type_ids", "attention_mask")


FUSABLE = ("bert", "roberta", "xlm-roberta", "distilbert", "camembert")


def _fuse(raw: Path, model: Any, work: Path) -> Path:
    """For BERT-family encoders, ONNX Runtime's transformer optimizer fuses each layer's
    attention, GELU and layer norms into single ops: measured on 2 busy cores, 15.1 against
    12.9 chunks/s of ~200 tokens, vectors unchanged (cosine 1.0). Other models keep the plain
    graph (still checked against PyTorch either way)."""
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    if getattr(config, "model_type", None) not in FUSABLE:
        return raw
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        fused = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
        )
        fused.save_model_to_file(str(work / "fused.onnx"))
    except Exception:  # noqa: BLE001  (an unexpected graph: the plain one is still right)
        return raw
    return work / "fused.onnx"


def _optimize(raw: Path, target: Path) -> None:
    """Save the graph as ONNX Runtime optimizes it, up to the portable level (fused layer
    norms, GELU, matmuls): a session then loads in ~0.12 s instead of ~0.4 s."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(target)
    options.log_severity_level = 3
    onnxruntime.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])


def _pipeline(model: Any, names: list[str]) -> Any:
    import torch

    class Pipeline(torch.nn.Module):
        """The sentence-transformers modules as one graph: token ids in, sentence vector out."""

        def __init__(self, model: Any, names: list[str]):
            super().__init__()
            self.model, self.names = model, names

        def forward(self, *tensors: Any) -> Any:
            return self.model(dict(zip(self.names, tensors, strict=True)))["sentence_embedding"]

    return Pipeline(model, names)


def _check(path: str, onnx_model: OnnxEmbedder) -> dict:
    """The export's vectors against the PyTorch model's (float32), alone and in one padded
    batch; raises ExportUnavailable below MIN_COSINE."""
    import numpy as np

    from tacit.index import torch_model

    reference = torch_model.load(path).encode(
        list(CHECK_SENTENCES),
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
        batch_size=len(CHECK_SENTENCES),
    )
    batched = onnx_model.embed(list(CHECK_SENTENCES))
    alone = np.vstack([onnx_model.embed([s]) for s in CHECK_SENTENCES])
    cosines = np.concatenate([(reference * batched).sum(axis=1), (reference * alone).sum(axis=1)])
    worst = float(cosines.min())
    if worst < MIN_COSINE:
        raise ExportUnavailable(
            f"its vectors differ from PyTorch's (cosine {worst:.6f} < {MIN_COSINE})"
        )
    return {"sentences": len(CHECK_SENTENCES), "min_cosine": round(worst, 7)}
