"""The layout's import contract, checked from the source alone (nothing is imported).

1. A plugin (``plugins/*``, ``examples/plugins/*``) imports from the core only its face:
   ``engine`` (names in ``engine.__all__``), ``engine.session`` and ``engine.testing``.
2. A plugin imports another plugin only through that plugin's face: ``from engine_tabular
   import Table``, with the name in its ``__all__``; never a module inside it.
3. The core (``engine/``) imports no plugin.
4. The core's modules have no import cycle, counting every import that runs: at module level
   or inside a function (imports under ``if TYPE_CHECKING:`` only name types and never run).
   ``engine/__init__.py``, the face that re-exports the core, is left out: it imports the core,
   and nothing in the core imports it.

Run ``python tools/import_contract.py`` from the repository root (the lint environment does);
it prints one line per broken rule and exits 1, or exits 0 in silence.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

CORE = "engine"
FACE_MODULES = ("engine", "engine.session", "engine.testing")


def module_name(path: Path, source_root: Path) -> str:
    parts = list(path.relative_to(source_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, source_root: Path, *, typing_only: bool = True) -> Iterator[tuple[int, str, list[str]]]:
    """Every import in a file: (line, module, imported names); relative imports resolved.
    ``typing_only=False`` leaves out those under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path, source_root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            yield node.lineno, module, [alias.name for alias in node.names]


def declared_all(init: Path) -> set[str] | None:
    """The names in a package's literal ``__all__``, or ``None`` without one."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "__all__":
            return {str(name) for name in ast.literal_eval(value)}
    return None


def plugin_packages(root: Path) -> dict[str, Path]:
    """Top-level package name → its folder, for every plugin distribution in the tree."""
    found: dict[str, Path] = {}
    for distribution in [*sorted((root / "plugins").glob("*/")), *sorted((root / "examples" / "plugins").glob("*/"))]:
        for init in sorted(distribution.glob("*/__init__.py")):
            found[init.parent.name] = init.parent
    return found


def check(root: Path) -> list[str]:
    problems: list[str] = []
    core_all = declared_all(root / CORE / "__init__.py") or set()
    packages = plugin_packages(root)
    faces = {name: declared_all(folder / "__init__.py") for name, folder in packages.items()}

    def where(path: Path, line: int) -> str:
        return f"{path.relative_to(root)}:{line}"

    for name, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            for line, module, names in imports(path, folder.parent):
                top = module.split(".")[0]
                if top == CORE:
                    if module not in FACE_MODULES and not module.startswith("engine.testing."):
                        problems.append(f"{where(path, line)}: imports {module}, a private core module — "
                                        f"import from engine, engine.session or engine.testing")
                    elif module == CORE:
                        for imported in names:
                            if imported not in core_all and imported not in ("session", "testing"):
                                problems.append(f"{where(path, line)}: imports {imported!r} from engine, which is "
                                                f"not in engine.__all__ — use the public face")
                elif top in packages and top != name:
                    face = faces[top]
                    if module != top:
                        problems.append(f"{where(path, line)}: imports {module}, a private module of another "
                                        f"plugin — import from {top} (its __all__)")
                    elif face is None:
                        problems.append(f"{where(path, line)}: imports {top}, which declares no __all__ face")
                    else:
                        for imported in names:
                            if imported not in face:
                                problems.append(f"{where(path, line)}: imports {imported!r} from {top}, which is "
                                                f"not in its __all__")

    graph: dict[str, set[str]] = {}
    core_modules = {module_name(path, root): path for path in (root / CORE).rglob("*.py")}
    for module, path in core_modules.items():
        edges = graph.setdefault(module, set())
        for line, imported, names in imports(path, root, typing_only=False):
            top = imported.split(".")[0]
            if top in packages:
                problems.append(f"{where(path, line)}: the core imports the plugin {top} — a plugin extends "
                                f"the core through hooks; the core names none")
            if top != CORE or module == CORE:
                continue
            submodules = [f"{imported}.{n}" for n in names]
            targets = [sub if sub in core_modules else imported for sub in submodules] or [imported]
            edges.update(t for t in targets if t in core_modules and t != CORE and t != module)
    problems += [f"import cycle among core modules: {' → '.join(cycle)}" for cycle in cycles(graph)]
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_one_cycle(graph, set(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, for a readable message."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, set()) & component):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return sorted(component)


def main() -> int:
    problems = check(Path.cwd())
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
