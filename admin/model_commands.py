"""`tacit models prepare`: make the derived models now (the ONNX form of the embedding model)."""

from __future__ import annotations

import typer

from tacit.core.output import err, print_json
from tacit.options import JSON

models_app = typer.Typer(help="The models tacit runs: make their fast forms ahead of time.")


@models_app.command("prepare")
def prepare(
    force: bool = typer.Option(False, "--force", help="Make it again even if it is there."),
    as_json: bool = JSON,
) -> None:
    """Make the ONNX form of the embedding model (once per model; `ask` then starts without
    torch), checked against the PyTorch vectors. Kept in the user model cache ($TACIT_MODELS)."""
    from tacit.core import config, model_paths, workspace
    from tacit.core.errors import NotAKnowledgeBase
    from tacit.index import embedder

    try:
        settings = workspace.current().config  # the model this knowledge base names
    except NotAKnowledgeBase:
        settings = config.default_config()
    result = embedder.prepare_onnx(model_paths.embedding_model(settings), force=force)
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
