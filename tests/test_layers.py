"""The layers drawn in ARCHITECTURE.md, checked against the imports of every module.

Every `import` and `from ... import` is read with `ast`, at module level and inside functions
alike (an import inside a function is still a dependency, only a later one), so a cycle cannot
hide behind a deferred import. Only `if TYPE_CHECKING:` blocks are left out: they never run.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARCHITECTURE = REPO / "ARCHITECTURE.md"
NOT_THE_PACKAGE = {"tests", "benchmarks", "docs", "examples", "templates", "demo-kb", ".venv"}
LIMIT_LINES = 400  # STYLE.md: modules that fit in a head
LIMIT_TEST_LINES = 600  # test files past this are split by subject


def package_modules() -> dict[str, Path]:
    found = {}
    for path in sorted(REPO.rglob("*.py")):
        parts = path.relative_to(REPO).parts
        if parts[0] in NOT_THE_PACKAGE or parts[0].startswith(".") or "egg-info" in parts[0]:
            continue
        name = ".".join(("tacit", *parts))[: -len(".py")]
        found[name.removesuffix(".__init__")] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if _type_checking_only(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules that `name` imports (a `from pkg import module` names the module)."""
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                prefix = ".".join(here[: len(here) - node.level + 1])
                base = f"{prefix}.{base}" if base else prefix
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def read_layers(text: str) -> list[list[list[str]]]:
    """The ```layers block: top layer first; `|` parts of a layer may not import each other."""
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "ARCHITECTURE.md has no ```layers block"
    layers = []
    for line in block.group(1).splitlines():
        line = line.split("#")[0].strip()
        if line:
            _, _, patterns = line.partition(":")
            layers.append([part.split() for part in patterns.split("|")])
    return layers


def place(module: str, layers: list[list[list[str]]]) -> tuple[int, int]:
    """(layer, part) of a module: the first pattern that matches, top layer first."""
    for depth, parts in enumerate(layers):
        for index, patterns in enumerate(parts):
            for pattern in patterns:
                if fnmatch.fnmatchcase(module, pattern) or fnmatch.fnmatchcase(
                    module, f"{pattern}.*"
                ):
                    return depth, index
    raise AssertionError(f"{module} is in no layer of ARCHITECTURE.md")


def wrong_way(graph: dict[str, set[str]], layers: list[list[list[str]]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        depth, part = place(module, layers)
        for target in sorted(targets):
            target_depth, target_part = place(target, layers)
            if target_depth < depth:
                found.append(f"{module} imports {target}, a layer above it")
            elif target_depth == depth and target_part != part:
                found.append(f"{module} imports {target}, a sibling it must not know")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_every_import_goes_down_the_layers_of_architecture_md():
    graph = import_graph()
    assert wrong_way(graph, read_layers(ARCHITECTURE.read_text())) == []


def test_the_layer_test_sees_a_wrong_way_import_and_a_cycle():
    layers = read_layers("```layers\ntop: a.cmd\nmid: a.x | a.y\nlow: a.core\n```")
    assert wrong_way({"a.core.io": {"a.x.one"}}, layers) == [
        "a.core.io imports a.x.one, a layer above it"
    ]
    assert wrong_way({"a.x.one": {"a.y.two"}}, layers) == [
        "a.x.one imports a.y.two, a sibling it must not know"
    ]
    assert wrong_way({"a.cmd": {"a.x.one"}, "a.x.one": {"a.core.io"}}, layers) == []
    assert cycles({"m": {"n"}, "n": {"o"}, "o": {"m"}, "p": {"m"}}) == [["m", "n", "o"]]


def test_imports_inside_functions_count_and_type_checking_ones_do_not(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import b\n"
        "def f():\n    from pkg import c\n    from pkg.c import thing\n"
    )
    modules = {"pkg.a": source, "pkg.b": source, "pkg.c": source}
    assert imports_of("pkg.a", source, modules) == {"pkg.c"}


def test_no_module_past_the_limit():
    long = {
        name: lines
        for name, path in package_modules().items()
        if (lines := len(path.read_text().splitlines())) > LIMIT_LINES
    }
    assert long == {}


def test_no_test_file_past_the_limit():
    long = {
        path.name: lines
        for path in sorted((REPO / "tests").glob("test_*.py"))
        if (lines := len(path.read_text().splitlines())) > LIMIT_TEST_LINES
    }
    assert long == {}
