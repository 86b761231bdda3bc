"""One validation layer for every file tacit reads and every value given on the command line.

- YAML (front matter, --answers files, guides) goes through `Loader`: PyYAML's safe loader
  with anchors and aliases refused (an alias bomb of a few hundred bytes expands to gigabytes),
  nesting depth bounded, and a bad date or a huge number reported at its line, not raised
  from deep inside the constructor.
- JSON (transcripts) goes through `load_json`: NaN, Infinity and overflowing numbers refused,
  deep nesting and huge integers turned into one-line errors.
- Records are checked by pydantic models (`check`): types, ranges and finite numbers, each
  error one line naming the file, the line where it can be found, and the field.
- Times: `seconds` for anything given in seconds, `day` for calendar dates.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import yaml

from tacit.core.errors import TacitError

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

MAX_TEXT_BYTES = 16 * 1024 * 1024  # a record, guide or answers file larger than this is not one
MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024  # a transcript file (100k cues of VTT are ~10 MB)
MAX_DEPTH = 32  # nesting of YAML and JSON records; tacit's own need 4
MAX_SECONDS = 1_000_000.0  # ~11.6 days: no recording, offset or note time is longer
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)

# ---------------------------------------------------------------- YAML


class RefusedYAML(yaml.MarkedYAMLError):
    """A YAML construct tacit does not read; a YAMLError, so callers report its line."""


class Loader(yaml.SafeLoader):
    """yaml.SafeLoader without anchors or aliases, with bounded nesting, and constructor
    failures (2027-13-45, a 5000-digit integer) reported as YAML errors at their line."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise RefusedYAML(
                None, None, f"aliases (*{event.anchor}) are not allowed", event.start_mark
            )
        if getattr(event, "anchor", None) is not None:
            raise RefusedYAML(
                None, None, f"anchors (&{event.anchor}) are not allowed", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise RefusedYAML(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            problem = str(exc).split("\n")[0] or "a value that cannot be read"
            if "digits" in problem:
                problem = "a number with more than 4300 digits"
            raise RefusedYAML(
                None, None, f"bad value {_short(node)}: {problem}", node.start_mark
            ) from None


def _short(node: Any) -> str:
    value = node.value if isinstance(node.value, str) else ""
    return repr(value[:40]) if value else f"at column {node.start_mark.column + 1}"


def _bounded(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    if len(text) > limit:
        raise RefusedYAML(None, None, f"larger than {limit // (1024 * 1024)} MB", None)
    return text


def load_yaml(text: str) -> Any:
    """yaml.safe_load with tacit's limits. Raises yaml.YAMLError (with a mark where known)."""
    loader = Loader(_bounded(text))
    try:
        return loader.get_single_data()
    except RecursionError:
        raise RefusedYAML(None, None, f"nested deeper than {MAX_DEPTH} levels", None) from None
    finally:
        loader.dispose()


def compose_yaml(text: str) -> Any:
    """yaml.compose with tacit's limits: the node tree, for line numbers of keys."""
    loader = Loader(_bounded(text))
    try:
        return loader.get_single_node()
    except RecursionError:
        raise RefusedYAML(None, None, f"nested deeper than {MAX_DEPTH} levels", None) from None
    finally:
        loader.dispose()


def yaml_problem(exc: yaml.YAMLError, first_line: int = 1) -> tuple[int | None, str]:
    """(line, problem) of a YAML error; first_line is the file line of the YAML's first line."""
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    if isinstance(exc, RefusedYAML):
        mark = exc.problem_mark
    problem = getattr(exc, "problem", None) or "invalid YAML"
    return (mark.line + first_line if mark is not None else None), problem


def line_of(node: Any, loc: Sequence[Any], first_line: int = 1) -> int | None:
    """The file line of the value at `loc` (keys and list indexes) in a composed YAML tree:
    the deepest node along the path that exists."""
    line = node.start_mark.line + first_line if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + first_line, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + first_line
        else:
            break
    return line


# ---------------------------------------------------------------- JSON


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number tacit accepts (times must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:30]} is too large a number")
    return value


def load_json(
    text: str, source: str, error: type[TacitError] = TacitError, *, finite: bool = True
) -> Any:
    """json.loads; deep nesting and huge integers are one-line errors naming the file (and the
    line where json knows it). finite: NaN, Infinity and overflowing floats are refused here;
    pass False when every number is checked afterwards (so the message can name its field)."""
    if len(text) > MAX_TRANSCRIPT_BYTES:
        raise error(f"{source}: larger than {MAX_TRANSCRIPT_BYTES // (1024 * 1024)} MB")
    numbers = {"parse_constant": _no_constant, "parse_float": _finite_float} if finite else {}
    try:
        data = json.loads(text, **numbers)
    except json.JSONDecodeError as exc:
        raise error(f"{source}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise error(f"{source}: nested too deeply to be a transcript") from None
    except ValueError as exc:
        problem = str(exc).splitlines()[0]
        if "digits" in problem:
            problem = "a number with more than 4300 digits"
        raise error(f"{source}: {problem}") from None
    if _depth(data) > MAX_DEPTH:
        raise error(f"{source}: nested deeper than {MAX_DEPTH} levels")
    return data


def _depth(value: Any) -> int:
    """Nesting depth, without recursion (the value may be thousands deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


# ---------------------------------------------------------------- records
# The pydantic types are built on first use (module __getattr__): pydantic costs ~0.1 s to
# import, and `tacit --help` and most commands never validate a record with it.


@functools.cache
def _types() -> dict[str, Any]:
    from pydantic import (
        AfterValidator,
        BaseModel,
        BeforeValidator,
        ConfigDict,
        Field,
        StringConstraints,
    )

    class Record(BaseModel):
        """Base of tacit's record models: unknown keys are errors, numbers finite, types strict
        (a text "12" is not a number)."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, strict=True)

    return {
        "Record": Record,
        "Seconds": Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)],
        "Offset": Annotated[float, Field(ge=-MAX_SECONDS, le=MAX_SECONDS, allow_inf_nan=False)],
        "Probability": Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)],
        # text fields: scalars written without quotes become text, lists and mappings refused
        "Text": Annotated[str, BeforeValidator(_as_text), StringConstraints(max_length=1_000_000)],
        # a file named by a record (media/interview.m4a), relative to the record's folder
        "RelativePath": Annotated[str, AfterValidator(_inside), StringConstraints(max_length=1000)],
        # names shown on one line (speakers, ids): whitespace and line breaks fold to a space
        "Name": Annotated[
            str,
            BeforeValidator(_as_text),
            AfterValidator(_one_line),
            StringConstraints(max_length=200),
        ],
    }


def _inside(value: Any) -> Any:
    """A path written in a record, relative to its folder: never absolute, never '..'."""
    if isinstance(value, str):
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "~")) or ".." in parts or "\x00" in value:
            raise ValueError(f"{value[:80]!r} must be a path inside the session folder")
    return value


def __getattr__(name: str) -> Any:
    types = _types()
    if name in types:
        return types[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _as_text(value: Any) -> Any:
    """A scalar written in YAML without quotes (2024, yes, 2026-12-01) is read as text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | dt.date):
        return str(value)
    return value


def _one_line(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


M = TypeVar("M", bound="BaseModel")


def first_error(exc: ValidationError) -> tuple[tuple[Any, ...], str]:
    """(location, one-line message) of a pydantic error."""
    error = exc.errors(include_url=False)[0]
    loc = tuple(error.get("loc") or ())
    text = str(error.get("msg") or "invalid").split("\n")[0]
    if error.get("type") == "value_error":  # our own validators' words, said as they are
        return loc, text.removeprefix("Value error, ")
    given = error.get("input")
    if error.get("type") not in ("missing", "extra_forbidden") and _shown(given):
        text = f"{text}, not {given!r}"
    return loc, text


def _shown(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | None) and len(repr(value)) <= 60


def dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check(
    model: type[M],
    data: Any,
    source: str | Path,
    error: type[TacitError] = TacitError,
    line: Callable[[Sequence[Any]], int | None] | None = None,
    where: Callable[[Sequence[Any]], str] | None = None,
) -> M:
    """data as a model instance, or `error` with one line: file, line (when known), field."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        loc, text = first_error(exc)
        at = line(loc) if line else None
        place = f"line {at}: " if at else ""
        field = where(loc) if where else dotted(loc)
        raise error(f"{source}: {place}{field + ': ' if field else ''}{text}") from None


# ---------------------------------------------------------------- command-line values


def seconds(value: float | None, what: str, *, negative: bool = False) -> float | None:
    """A time in seconds given on the command line: finite, in range (None passes)."""
    if value is None:
        return None
    low = -MAX_SECONDS if negative else 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TacitError(f"{what} must be a finite number of seconds, not {value!r}")
    if not low <= value <= MAX_SECONDS:
        raise TacitError(f"{what} must be from {low:g} to {MAX_SECONDS:g} seconds, not {value:g}")
    return float(value)


def day(value: dt.date, what: str) -> dt.date:
    """A calendar date tacit can count weeks and days from without overflowing."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise TacitError(
            f"{what} must be a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}, "
            f"not {value.isoformat()}"
        )
    return value


def whole(value: int, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TacitError(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    return value
