"""Many questions, one warm retriever: the models load once (`ask --file`, `chat`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tacit.ask.answers import Answer, ask, log_question
from tacit.core.workspace import Workspace

QUERY_THREADS = 1  # embedding threads for a process that asks: see warm_retriever


class RememberingEmbedder:
    """Wraps the embedder and keeps the last few vectors: a not-captured question is embedded
    for the search and again for matching experts' topics; the second costs nothing."""

    def __init__(self, inner: Any, keep: int = 8):
        self.inner, self.keep = inner, keep
        self._last: dict[str, Any] = {}

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Any) -> Any:
        import numpy as np

        if not texts:
            return self.inner.embed([])
        missing = [t for t in dict.fromkeys(texts) if t not in self._last]
        if missing:
            self._last.update(zip(missing, self.inner.embed(missing), strict=True))
        vectors = np.stack([self._last[t] for t in texts])
        while len(self._last) > self.keep:
            self._last.pop(next(iter(self._last)))  # the oldest first
        return vectors


def warm_retriever(ws: Workspace) -> Any:
    """A retriever with the model, store and lexical index loaded, for many questions.

    One question is too small a job to split across cores: with all cores a busy machine
    made warm asks 4x slower at p50 and 20x at p99 (benchmarks/ask_latency.py), so a process
    that asks embeds on QUERY_THREADS unless tacit.toml sets `threads`. Importing chromadb and
    bm25s on a second thread while the model loads was measured and not kept: on 2 busy cores a
    cold ask took 1.19-1.64 s with it against 1.15-1.50 s without (imports hold the GIL).
    """
    retriever = _retriever(ws)
    with loading("loading the knowledge base…"):
        retriever.warm()
    return retriever


def retriever_behind(ws: Workspace) -> Behind:
    """For `chat`: the index is checked now (no index, or one built with another model, fails
    before the prompt), and the model, store and lexical index load on a thread behind it."""
    retriever = _retriever(ws)
    retriever._model()  # the manifest and model checks; loads no model
    return Behind(retriever.warm, retriever)


def _retriever(ws: Workspace) -> Any:
    from tacit.ask.retriever import Retriever
    from tacit.index import embedder as embedder_module

    model = embedder_module.for_workspace(ws, threads=QUERY_THREADS)
    return Retriever(ws, embedder=RememberingEmbedder(model))


class Behind:
    """`load()` runs on a daemon thread from now; `get()` waits for it (saying so on a terminal)
    and returns `value`, or raises what the loading raised."""

    def __init__(self, load: Callable[[], Any], value: Any):
        import threading

        self.value = value
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(load,), daemon=True)
        self._thread.start()

    def _run(self, load: Callable[[], Any]) -> None:
        try:
            load()
        except BaseException as exc:  # noqa: BLE001  (handed to the thread that waits)
            self._error = exc

    def get(self) -> Any:
        if self._thread.is_alive():
            with loading("loading the knowledge base…"):
                self._thread.join()
        if self._error is not None:
            raise self._error
        return self.value


@contextlib.contextmanager
def loading(what: str) -> Iterator[None]:
    """Say what a wait is for: a transient line on a terminal's stderr, gone when done."""
    import sys

    if not sys.stderr.isatty():
        yield
        return
    from tacit.core.output import err

    with err.status(what, spinner="dots"):
        yield


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep Python's full garbage collections off the loaded index while questions run.

    The index is long-lived; without this a full collection walks every chunk (at 100,000
    chunks that made about one question in a hundred several times slower).
    """
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def ask_each(
    ws: Workspace,
    questions: Iterable[str],
    filters: Any = None,
    k: int = 5,
    log: bool = True,
    retriever: Any = None,
) -> Iterator[Answer]:
    """Many questions, one warm retriever (models load once); answers in the given order."""
    retriever = retriever or warm_retriever(ws)
    with frozen_heap():
        for question in questions:
            if not question.strip():
                continue
            answer = ask(ws, retriever, question, filters, k)
            if log:
                log_question(ws, answer, filters)
            yield answer
