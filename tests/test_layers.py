"""The package's shape, read from its code: subpackages import only downward, no import cycle, no
import inside a function but a commented one, and no function past what one reader holds."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "ganfit"
# Bottom up; a module may import from its own layer and the ones below (docs/architecture.md).
LAYERS = [
    {"errors", "files", "arrays", "custom", "provenance", "specs", "config", "recipes"},
    {"game"},
    {"measure"},
    {"rundir"},
    {"pictures"},
    {"progress", "metric_log", "notebook", "run", "sampler", "training", "fitting", "budget"},
    {"sweep", "lab"},
    {"cli", "__main__", "__init__"},
]
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        parts = p.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)] = p
    return out


def layer(module: str) -> int:
    top = module.split(".")[0]
    return next(i for i, names in enumerate(LAYERS) if top in names)


def imports(module: str, path: Path) -> list[tuple[str, ast.AST]]:
    """(ganfit module imported, node) for every import in the file, at any depth."""
    is_pkg = path.name == "__init__.py"
    here = module.split(".") if is_pkg else module.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{target}.{alias.name}".strip(".")
                out.append((full if full in MODULES else target, node))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ganfit"):
            out.append((node.module.removeprefix("ganfit").strip("."), node))
    return [(m, n) for m, n in out if m and m != module]


MODULES = modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    if module == "__init__":
        return  # the package's face: its lazy re-exports reach every layer
    for target, _ in imports(module, MODULES[module]):
        assert layer(target) <= layer(module), f"{module} (layer {layer(module)}) imports {target}"


def test_no_import_cycle():
    graph = {m: {t for t, _ in imports(m, p) if t in MODULES} for m, p in MODULES.items() if m != "__init__"}
    graph = {m: {t for t in ts if t in graph and not m.startswith(t + ".")} for m, ts in graph.items()}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for t in graph[m]:
            assert state.get(t) != 1, "import cycle: " + " -> ".join(path + [t])
            if t not in state:
                visit(t, path + [t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_imports_inside_functions_say_why():
    for module, path in MODULES.items():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    assert _commented(lines, inner.lineno - 1), f"{module}:{inner.lineno}: an import without a why"


def _commented(lines: list[str], i: int) -> bool:
    """A comment on the import's line, or above the block of imports it belongs to."""
    while i >= 0 and "#" not in lines[i]:
        stripped = lines[i].strip()
        if stripped and not stripped.startswith(("import ", "from ")) and not stripped.endswith("try:"):
            return False
        i -= 1
    return i >= 0


def test_no_function_is_longer_than_one_screen():
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, f"{module}.{node.name} is {length} lines"
