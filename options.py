"""Command options that several commands share, defined once so their flags and help agree.

Part of the command layer (it imports typer); the cores never see these.
"""

from __future__ import annotations

import typer

JSON = typer.Option(False, "--json", help="Print JSON.")
EXPERT_FILTER = typer.Option(None, "--expert", help="Only this expert's sessions (slug).")
SESSION_FILTER = typer.Option(None, "--session", help="Only this session (id).")
KIND_FILTER = typer.Option(None, "--kind", help="Only interview or observation sessions.")
SESSION_KIND = typer.Option("interview", "--kind", help="interview or observation.")
# an expert's profile: `expert add` and `expert edit`
ROLE = typer.Option(None, "--role", help="What they do (e.g. 'Shift lead').")
TEAM = typer.Option(None, "--team", help="Their team or site.")
LEAVING_ON = typer.Option(None, "--leaving-on", help="Date YYYY-MM-DD.")
ATTRITION = typer.Option(None, "--attrition", help="1-5, when there is no leaving date.")
