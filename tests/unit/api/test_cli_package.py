"""The `datavault` CLI is a package without an import circle: `api.cli` builds the parser from
the command groups, the groups share `api.cli.common` and import nothing of each other."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import api.cli

PACKAGE = Path(api.cli.__file__).parent
# Modules every group may import; the rest of the package are command groups.
# In their own order: parsing reads arguments with common's errors and files.
SHARED_ORDER = ("api.cli.common", "api.cli.parsing")
SHARED = set(SHARED_ORDER)
# A group's own helper module (its noun): it imports only the shared modules, and only its
# group imports it.
HELPERS = {"api.cli.bulk_file": "api.cli.bulk"}
NOT_GROUPS = {"api.cli", "api.cli.__main__", *SHARED, *HELPERS}


def modules() -> list[str]:
    return sorted(f"api.cli.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE)]))


def imported(module: str) -> set[str]:
    """Every module ``module`` names in an import, at the top or inside a function."""
    path = PACKAGE / "__init__.py" if module == "api.cli" else PACKAGE / f"{module.rsplit('.', 1)[1]}.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: relative import"
            base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from api.cli import grants`
    return names


def test_every_module_imports() -> None:
    found = modules()
    assert {"api.cli.common", "api.cli.core", "api.cli.grants", "api.cli.__main__"} <= set(found)
    for name in found:
        importlib.import_module(name)


def test_groups_import_only_the_common_module() -> None:
    package = set(modules()) | {"api.cli"}
    groups = package - NOT_GROUPS
    assert groups, "no command groups found"
    for group in sorted(groups):
        assert hasattr(importlib.import_module(group), "add_commands"), group
        own = {h for h, owner in HELPERS.items() if owner == group}
        inside = imported(group) & package - own
        assert inside <= SHARED, f"{group} imports {sorted(inside - SHARED)}: groups share only {sorted(SHARED)}"
    for helper, owner in HELPERS.items():
        assert imported(helper) & package <= SHARED, f"{helper} imports more than {sorted(SHARED)}"
        users = {m for m in package - {helper} if helper in imported(m)}
        assert users <= {owner}, f"{helper} is {owner}'s alone, yet {sorted(users - {owner})} import it"
    # The shared modules are below every group (each imports only those before it), and the
    # parser above them all.
    for i, shared in enumerate(SHARED_ORDER):
        below = set(SHARED_ORDER[:i])
        assert imported(shared) & (package - {shared}) <= below, f"{shared} imports more of the package than {below}"
    assert groups <= imported("api.cli")


def test_no_module_outside_the_cli_imports_it() -> None:
    """The CLI sits on top: nothing in the rest of `api` imports it (a route's converter lives in
    `api/schemas/`, where the CLI takes it from)."""
    root = PACKAGE.parent
    for path in sorted(root.rglob("*.py")):
        if PACKAGE in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            assert not {n for n in names if n == "api.cli" or n.startswith("api.cli.")}, path


def test_python_m_api_cli_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "--help"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PACKAGE.parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: datavault ") and "issue-bulk" in done.stdout
