"""The layers of the source: lower layers never import higher ones, and no module imports
itself through others. Read from the import statements, so a lazy import counts too."""

from __future__ import annotations

import ast
import graphlib
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "reported_claims"
LAYERS = {"errors": 0, "problems": 0, "util": 0, "_version": 0, "model": 1, "repo": 2, "check": 3,
          "package": 4, "ingest": 5, "client": 5, "site": 6, "cli": 7}
"""The first name under reported_claims -> its layer; a module imports only its own or lower ones."""
TOP = ("reported_claims", "reported_claims.__main__")
"""The entry points, above every layer: they may import the client and the command line lazily."""
KNOWN: dict[str, str] = {}
"""Violations known today, each with why; a module listed here is expected to fail (xfail)."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str:
    """The module an import of ``name`` loads last: ``name`` itself, else its nearest package."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports(module: str) -> list[tuple[str, bool]]:
    """The modules of reported_claims that ``module`` imports, each with whether it is lazy."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    is_package = MODULES[module].name == "__init__.py"
    lazy_nodes = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for n in ast.walk(f)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                out.append((_resolve(name), id(node) in lazy_nodes))
    return out


def layer(module: str) -> int:
    if module in TOP:
        return max(LAYERS.values()) + 1
    return LAYERS[module.split(".")[1]]


def _params() -> list:
    return [pytest.param(m, id=m, marks=[pytest.mark.xfail(reason=KNOWN[m], strict=True)] if m in KNOWN else [])
            for m in MODULES]


@pytest.mark.parametrize("module", _params())
def test_no_module_imports_a_higher_layer(module):
    importlib.import_module(module)
    # Importing any module runs reported_claims/__init__.py first, which loads only _version at
    # import; so taking __version__ from it is no dependency on a higher layer.
    higher = sorted({target for target, _ in imports(module) if target != PACKAGE and layer(target) > layer(module)})
    assert not higher, f"{module} (layer {layer(module)}) imports {higher}"


def test_no_import_cycle():
    graph = {m: {t for t, lazy in imports(m) if t != m and not (m in TOP and lazy)} for m in MODULES}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_the_layers_cover_every_module():
    assert set(MODULES) - set(TOP) and all(layer(m) >= 0 for m in MODULES)


def test_architecture_names_every_subpackage_and_module():
    """ARCHITECTURE.md is the map of the tree: every subpackage and every module in it is named."""
    text = (SRC.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for folder in sorted(p for p in (SRC / PACKAGE).iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        assert f"`{folder.name}/`" in text, folder.name
        for module in sorted(folder.glob("*.py")):
            if module.name != "__init__.py":
                assert f"`{module.name}`" in text, f"{folder.name}/{module.name}"
