"""Commands for protégés: ask, play, chat, who-knows (mounted on the root app)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tacit.ask import answers as answers_core
from tacit.ask import warm
from tacit.core import timefmt, workspace
from tacit.core.errors import UsageError
from tacit.core.output import clean, err, message, out, print_json, print_json_line, table
from tacit.options import EXPERT_FILTER, JSON, KIND_FILTER, SESSION_FILTER

K = typer.Option(5, "-k", help="How many excerpts to show.")
RESTRICTED = typer.Option(
    False, "--include-restricted", help="Also search sessions marked restricted."
)
NO_LOG = typer.Option(False, "--no-log", help="Do not record the question in questions.jsonl.")


def _filters(
    ws: workspace.Workspace,
    expert: str | None,
    kind: str | None,
    session: str | None,
    include_restricted: bool,
) -> Any:
    from tacit.ask.retriever import Filters
    from tacit.records import experts, sessions

    if kind is not None and kind not in sessions.KINDS:
        raise UsageError(f"--kind must be interview or observation, not {kind!r}")
    if expert is not None:
        experts.get(ws, expert)  # a clear error for a slug that does not exist
    if session is not None:
        sessions.get(ws, session)
    return Filters(expert=expert, kind=kind, session=session, include_restricted=include_restricted)


def ask(
    question: str = typer.Argument(None, help="The question, in your own words."),
    expert: str = EXPERT_FILTER,
    kind: str = KIND_FILTER,
    session: str = SESSION_FILTER,
    k: int = K,
    include_restricted: bool = RESTRICTED,
    as_json: bool = JSON,
    no_log: bool = NO_LOG,
    questions_file: Path = typer.Option(
        None, "--file", help="One question a line; prints one JSON object a line, in order."
    ),
) -> None:
    """Ask the knowledge base; answers cite session, speaker and second."""
    if (question is None) == (questions_file is None):
        raise UsageError("give a QUESTION or --file QUESTIONS.txt (one of them)")
    if question is not None and not question.strip():
        raise UsageError("the question is empty")
    ws = workspace.current()
    filters = _filters(ws, expert, kind, session, include_restricted)
    if questions_file is not None:
        questions = _read_lines(questions_file)
        for answer in warm.ask_each(ws, questions, filters, k, log=not no_log):
            print_json_line(answer.to_json())
        return
    (answer,) = warm.ask_each(ws, [question], filters, k, log=not no_log)
    if as_json:
        print_json(answer.to_json())
    else:
        render_answer(answer, logged=not no_log)


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _highlighted(text: str, terms: tuple[str, ...]) -> Any:
    from rich.text import Text

    from tacit.index.terms import term_pattern

    shown = Text(text, justify="default", overflow="fold")
    pattern = term_pattern(terms)
    if pattern is not None:
        shown.highlight_regex(pattern, style="bold yellow")
    return shown


def _print_indented(text: Any, indent: int = 3) -> None:
    # wrap by hand: rich's Padding pads every line with spaces up to the terminal's width
    from rich.text import Text

    for line in text.wrap(out, max(out.width - indent, 20)):
        line.rstrip()
        out.print(Text(" " * indent) + line)


def _print_original(language: str, original: str, indent: int = 3) -> None:
    """A non-English session's own words under the English they were searched by."""
    from rich.text import Text

    label = f"said in {language}" if language else "said"
    for n, line in enumerate(original.splitlines()):
        head = f"{label}: " if n == 0 else " " * (len(label) + 2)
        _print_indented(Text(head + line, style="italic"), indent)


def render_answer(answer: answers_core.Answer, logged: bool = True) -> None:
    if answer.not_captured:
        _render_gap(answer, logged)
    else:
        out.print(_highlighted(answer.answer, answer.terms), style="bold")
        if answer.source and answer.source.original:
            _print_original(answer.source.language, answer.source.original, indent=0)
        out.print()
    for n, result in enumerate(answer.results, start=1):
        who = ", ".join(p for p in (result.expert_name, result.role) if p)
        out.print(f"{n}. {result.citation}  {who}", highlight=False, markup=False)
        _print_indented(_highlighted(result.text, answer.terms))
        if result.original:
            _print_original(result.language, result.original)
        if result.media:
            at = timefmt.media_seconds(result.start or 0.0)
            out.print(f"   play: tacit play {result.session}@{at}", style="dim")
        out.print()


def _render_gap(answer: answers_core.Answer, logged: bool) -> None:
    evidence = []
    if answer.relevance is not None:
        evidence.append(f"best match {answer.relevance:.2f}, threshold {answer.threshold:.2f}")
    if answer.coverage is not None:
        evidence.append(
            f"question words held {answer.coverage:.2f}, needed {answer.lexical_threshold:.2f}"
        )
    out.print(
        "The knowledge base does not hold an answer to this yet "
        f"({'; '.join(evidence) or 'no match'}).",
        markup=False,
    )
    if answer.experts:
        out.print("Most likely to know:")
        for s in answer.experts:
            role = f" ({s.role})" if s.role else ""
            out.print(f"  - {s.name}{role}: {s.why}", markup=False)
        if logged:
            slugs = ", ".join(s.slug for s in answer.experts)
            message(f"logged as an open question for {slugs} (see `tacit expert agenda`)")
    elif logged:
        message("logged as an open question (no expert's topics match it)")
    if answer.results:
        out.print("\nNearest passages (below the threshold; they may not answer it):\n")


def play(
    cited: str = typer.Argument(
        ...,
        metavar="CITATION",
        help="'\\[session · speaker · hh:mm:ss]' or SESSION@hh:mm:ss.",
    ),
    print_only: bool = typer.Option(False, "--print", help="Print the file and second only."),
    as_json: bool = JSON,
) -> None:
    """Play a recording from the cited moment (ffplay, mpv or vlc), or print where it is."""
    from tacit.ask import playback

    moment = playback.locate(workspace.current(), cited)
    if as_json:
        print_json(moment.to_json())
        return
    if print_only:
        typer.echo(clean(moment.label))
        return
    _play(moment)


def _play(moment: Any) -> None:
    """Play it, or print the file and second when no player is found or the player fails."""
    from tacit.ask import playback

    player, status = playback.play(moment)
    if player is not None and status == 0:
        return
    typer.echo(clean(moment.label))
    if player is None:
        message("no player found (ffplay, mpv or vlc); open the file at that second")
    else:
        message(f"{player} stopped with exit status {status}; open the file at that second")


def who_knows(
    topic: str = typer.Argument(..., help="A topic, in your own words."),
    include_restricted: bool = RESTRICTED,
    as_json: bool = JSON,
) -> None:
    """Experts ranked by the evidence captured from them on a topic, with their contacts."""
    from tacit.ask import expertise
    from tacit.ask.retriever import Filters

    ws = workspace.current()
    filters = Filters(include_restricted=include_restricted)
    rows = expertise.who_knows(ws, warm.warm_retriever(ws), topic, filters)
    if as_json:
        print_json({"topic": topic, "experts": [r.to_json() for r in rows]})
        return
    if not rows:
        message("no captured evidence on this topic and no expert lists it among their topics")
        return
    columns = ["expert", "role", "leaving", "evidence", "passages", "best session", "contacts"]
    table(
        f"Who knows: {topic}",
        columns,
        [
            [
                r.name,
                r.role,
                r.leaving_on or "",
                f"{r.evidence:.2f}" if r.passages else "topics only",
                r.passages,
                r.best_session,
                "; ".join(r.contacts),
            ]
            for r in rows
        ],
    )


def chat(
    expert: str = EXPERT_FILTER,
    kind: str = KIND_FILTER,
    session: str = SESSION_FILTER,
    k: int = K,
    include_restricted: bool = RESTRICTED,
    no_log: bool = NO_LOG,
) -> None:
    """Ask question after question with the models kept warm (:help for the commands)."""

    ws = workspace.current()
    state = {"expert": expert, "kind": kind, "session": session}
    _filters(ws, expert, kind, session, include_restricted)  # bad options fail before the loop
    behind = warm.retriever_behind(ws)  # the prompt shows at once; the models load behind it
    last: answers_core.Answer | None = None
    err.print(
        "Ask a question. :expert SLUG, :kind KIND, :session ID (no value clears), :play N, :quit",
        highlight=False,
        markup=False,
    )
    while True:
        try:
            line = input("ask> ").strip()
        except EOFError:
            break
        if not line:
            continue
        if line.startswith(":"):
            if _chat_command(ws, line, state, last) == "quit":
                break
            continue
        filters = _filters(ws, state["expert"], state["kind"], state["session"], include_restricted)
        (last,) = warm.ask_each(ws, [line], filters, k, not no_log, behind.get())
        render_answer(last, logged=not no_log)


def _chat_command(ws: Any, line: str, state: dict, last: answers_core.Answer | None) -> str:
    from tacit.core.errors import TacitError

    name, _, value = line[1:].partition(" ")
    value = value.strip() or None
    try:
        if name in ("quit", "q", "exit"):
            return "quit"
        if name in ("expert", "kind", "session"):
            trial = {**state, name: value}
            _filters(ws, trial["expert"], trial["kind"], trial["session"], False)
            state[name] = value
            message(f"{name}: {value or 'any'}")
        elif name == "play":
            _chat_play(ws, value, last)
        else:
            message(":expert SLUG, :kind KIND, :session ID, :play N, :quit")
    except TacitError as exc:  # a typo in the loop must not end the conversation
        message(f"error: {exc.message}")
    return ""


def _chat_play(ws: Any, value: str | None, last: answers_core.Answer | None) -> None:
    from tacit.ask import playback

    if last is None or not value or not value.isdigit():
        raise UsageError(":play N plays result N of the last answer")
    n = int(value)
    if not 1 <= n <= len(last.results):
        raise UsageError(f"the last answer has results 1 to {len(last.results)}")
    result = last.results[n - 1]
    at = timefmt.media_seconds(result.start or 0.0)
    try:
        _play(playback.locate(ws, f"{result.session}@{at}"))
    except KeyboardInterrupt:  # Ctrl-C stops the recording, not the conversation
        message("stopped")


def mount(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.command("play")(play)
    app.command("chat")(chat)
    app.command("who-knows")(who_knows)
