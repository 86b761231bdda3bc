"""Commands: `tacit voices list|add|remove` (voice profiles, made only with recorded consent)."""

from __future__ import annotations

import typer

from tacit.core import workspace
from tacit.core.output import message, print_json
from tacit.options import JSON

voices_app = typer.Typer(
    help="Voice profiles: name a person in later recordings (only with their voice consent).",
    no_args_is_help=True,
)


@voices_app.command("list")
def voices_list(as_json: bool = JSON) -> None:
    """List the voice profiles kept in this KB (voices/)."""
    from tacit.capture import voices
    from tacit.core.output import table

    profiles = voices.list_all(workspace.current())
    rows = [
        {"slug": p.slug, "name": p.name, "seconds": p.seconds, "made": p.made,
         "sources": [f"{s['session']}:{s['speaker']}" for s in p.sources]}
        for p in profiles
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    if not rows:
        message("no voice profiles")
        return
    table(None, ["slug", "name", "seconds", "made", "from"],
          [[r["slug"], r["name"], r["seconds"], r["made"], ", ".join(r["sources"])]
           for r in rows])  # fmt: skip


@voices_app.command("add")
def voices_add(
    slug: str = typer.Argument(..., help="The person's slug (their experts/ record)."),
    session_id: str = typer.Option(..., "--session", help="A session they speak in."),
    speaker: str = typer.Option(..., "--speaker", help="Their speaker name in that session."),
) -> None:
    """Make (or extend) a person's voice profile from their named segments in a session."""
    from tacit.capture import voices

    ws = workspace.current()
    with workspace.records_lock(ws):
        profile = voices.add(ws, slug, session_id, speaker)
    message(
        f"voice profile of {profile.name}: {profile.seconds:g} s of speech from "
        f"{len(profile.sources)} source(s); wrote {voices.profile_path(ws, slug)}"
    )


@voices_app.command("remove")
def voices_remove(slug: str = typer.Argument(..., help="The person's slug.")) -> None:
    """Delete a person's voice profile."""
    from tacit.capture import voices
    from tacit.core.errors import NotFound

    ws = workspace.current()
    with workspace.records_lock(ws):
        if not voices.remove(ws, slug):
            raise NotFound(f"no voice profile for {slug!r}; see `tacit voices list`")
    message(f"removed the voice profile of {slug}")
