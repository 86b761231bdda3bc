"""The sentence-transformers model on PyTorch: the fallback runtime, and the source of the ONNX
export. Importing torch costs seconds, so it happens here, on first use, once per process."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def load(path: str, threads: int = 0, attention: str = "") -> Any:
    """The sentence-transformers model at `path`, loaded once per process (imports torch).
    `attention` names a transformers attention implementation ("eager" for the export)."""
    from tacit.core import model_paths

    model_paths.offline()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # its "Loading weights" bar would land in the middle of tacit's own output
    transformers_logging.disable_progress_bar()
    if threads:
        torch.set_num_threads(threads)
    kwargs = {"attn_implementation": attention} if attention else None
    try:
        model = SentenceTransformer(path, device="cpu", model_kwargs=kwargs)
    except (OSError, ValueError) as exc:
        from tacit.core.errors import TacitError

        raise TacitError(f"cannot load embedding model {path}: {exc}") from None
    return model
