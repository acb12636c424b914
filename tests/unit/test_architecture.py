"""The rooms of docs/architecture.md import only the rooms below them."""

from __future__ import annotations

import ast

import pytest
from support.paths import REPO

PACKAGE = REPO / "kernelsplit"
FOUNDATION = {
    "errors",
    "exitcodes",
    "layouts",
    "maths",
    "equations",
    "forward",
    "jsonutil",
    "_compat",
    "_version",
    "tensordata",
}
#: room -> rooms it may import (besides itself and the foundation).
ALLOWED = {
    "model": set(),
    "readers": {"model"},
    "analysis": {"model", "readers"},
    "discover": {"readers"},
    "api": {"model", "readers", "analysis"},
    "check": {"model", "readers", "analysis", "api", "discover"},
    "export": {"model", "readers", "analysis", "api"},
    "verify": {"model", "readers", "analysis", "api"},
    "render": {"model", "readers", "analysis", "api", "check", "verify", "discover"},
    "batch": {"model", "readers", "analysis", "api", "discover", "check", "export", "verify", "render"},
}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "kernelsplit"


def _imports() -> list[tuple[str, str, str]]:
    """(file, importing room, imported room) for every relative import between rooms."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        package = module.removesuffix(".__init__") if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                found.append((str(path.relative_to(REPO)), _room(module), _room(target)))
    return found


def test_rooms_import_only_rooms_below_them() -> None:
    imports = _imports()
    assert len(imports) > 100  # the walk really saw the package
    wrong = [
        f"{file}: {room} imports {target}"
        for file, room, target in imports
        if room in ALLOWED and target != room and target not in FOUNDATION and target not in ALLOWED[room]
    ]
    assert not wrong, "\n".join(wrong)


def test_foundation_imports_no_room() -> None:
    rooms = set(ALLOWED) | {"cli", "api", "discover"}
    wrong = [f"{file}: imports {target}" for file, room, target in _imports() if room in FOUNDATION and target in rooms]
    assert not wrong, "\n".join(wrong)


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level and node.module:
        return [node.module]
    return []


def test_matplotlib_only_in_render_plot_and_only_when_drawing() -> None:
    """matplotlib is the optional ``plot`` extra and slow to import: only ``render/plot`` may use it,
    inside functions (``TYPE_CHECKING`` imports aside), so ``inspect`` and friends never load it."""
    plot_package = PACKAGE / "render" / "plot"
    outside, at_module_level = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            uses = any(name.split(".")[0] == "matplotlib" for name in _imported_modules(node))
            if uses and plot_package not in path.parents:
                outside.append(str(path.relative_to(REPO)))
        for node in tree.body:  # module level; `if TYPE_CHECKING:` bodies are not executed
            if any(name.split(".")[0] == "matplotlib" for name in _imported_modules(node)):
                at_module_level.append(str(path.relative_to(REPO)))
    assert not outside, outside
    assert not at_module_level, at_module_level


@pytest.mark.parametrize("output_format", ["json", "text", "summary"])
def test_cli_process_leaves_numpy_and_h5py_to_its_workers(output_format: str) -> None:
    """``inspect FILE`` reads FILE in a worker: the CLI process itself must not pay for
    numpy and h5py (start-up is the cost of a small file; docs/architecture.md, "Isolation")."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from kernelsplit.cli import main\n"
        "try:\n"
        "    sys.argv = ['kernelsplit', 'inspect', '--output-format', sys.argv[2], '--jobs', '1', sys.argv[1]]\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "print(code, sorted(m for m in ('numpy', 'h5py', 'kernelsplit.model') if m in sys.modules), file=sys.stderr)\n"
    )
    fixture = REPO / "fixtures" / "tf_keras" / "zoo.h5"
    run = subprocess.run(
        [sys.executable, "-c", script, str(fixture), output_format], capture_output=True, text=True, timeout=120
    )
    assert "my_lstm" in run.stdout  # the worker really read the file
    assert run.stderr.strip().splitlines()[-1] == "0 []", run.stderr
