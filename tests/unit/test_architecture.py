"""The layers, checked on the import graph: ``api -> vault -> {chain, keys}``, nothing points
back up, and no module-level circle.

Every ``import x`` and ``from x import y`` in the packages ``vault``, ``api``, ``chain`` and
``keys`` is read with ``ast``: at module level, inside functions and classes, and under
``if TYPE_CHECKING:`` alike (a deferred import is still a dependency). Circles are looked for
among the imports that run when a module is loaded: module level, not under TYPE_CHECKING, not
inside a function. A known exception is named here, so that nothing new creeps in beside it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("vault", "api", "chain", "keys")

# chain/ and keys/ know nothing of each other. Known exceptions, by (importer, imported):
# none today.
CHAIN_KEYS_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()

# Module-level circles that exist today, each as the sorted names of its modules (a strongly
# connected component of the load-time graph). None today: a new one fails the test.
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name, resolved to a module of ours where it names one
    line: int
    at_load: bool  # runs when the importer is loaded (module level, not under TYPE_CHECKING)

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


MODULES = our_modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, at_load: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, at_load
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _walk(child, False)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _walk(ast.Module(body=[stmt], type_ignores=[]), False)
            for stmt in child.orelse:
                yield from _walk(ast.Module(body=[stmt], type_ignores=[]), at_load)
        else:
            yield from _walk(child, at_load)


def _resolve(importer: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer.split(".") if path.name == "__init__.py" else importer.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(importer: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node, at_load in _walk(tree, True):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, node.lineno, at_load)
        else:
            base = _resolve(importer, path, node)
            for alias in node.names:
                # `from vault import grants` imports the module vault.consent.grants.
                sub = f"{base}.{alias.name}"
                yield Import(importer, sub if sub in MODULES else base, node.lineno, at_load)


IMPORTS = [imp for name, path in MODULES.items() for imp in imports_of(name, path)]


def top(name: str) -> str:
    return name.split(".")[0]


def violations(importers: tuple[str, ...], imported: tuple[str, ...]) -> list[str]:
    return [
        str(i)
        for i in IMPORTS
        if top(i.importer) in importers and top(i.imported) in imported and top(i.importer) != top(i.imported)
    ]


def test_the_walk_sees_the_packages() -> None:
    assert {"vault.consent.grants", "api.routes.grants", "chain.consent", "keys.envelope"} <= MODULES.keys()
    assert any(i.importer == "api.deps" and top(i.imported) == "vault" for i in IMPORTS)


def test_chain_and_keys_import_neither_vault_nor_api() -> None:
    assert violations(("chain", "keys"), ("vault", "api")) == []


def test_chain_and_keys_know_nothing_of_each_other() -> None:
    found = {(i.importer, i.imported) for i in IMPORTS if {top(i.importer), top(i.imported)} == {"chain", "keys"}}
    assert found == CHAIN_KEYS_EXCEPTIONS, sorted(found - CHAIN_KEYS_EXCEPTIONS)


def test_vault_does_not_import_api() -> None:
    assert violations(("vault",), ("api",)) == []


def test_routes_do_not_import_chain() -> None:
    found = [str(i) for i in IMPORTS if i.importer.startswith("api.routes") and top(i.imported) == "chain"]
    assert found == [], "routes reach the chain through vault/"


def load_time_graph() -> dict[str, set[str]]:
    # An edge to the module named, not to the packages above it: a package's __init__ that
    # re-exports its submodules (keys/) is not a circle with them.
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for i in IMPORTS:
        if i.at_load and i.imported in MODULES:
            graph[i.importer].add(i.imported)
    return graph


def cycles_in(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself),
    each sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"d"}}
    assert cycles_in(graph) == [["a", "b", "c"], ["e"]]
    assert cycles_in({"a": {"b"}, "b": set()}) == []


def test_no_module_level_import_cycle() -> None:
    cycles = cycles_in(load_time_graph())
    new = [c for c in cycles if frozenset(c) not in KNOWN_CYCLES]
    assert new == [], f"import cycles: {new}"
    gone = KNOWN_CYCLES - {frozenset(c) for c in cycles}
    assert not gone, f"cycles no longer there: remove them from KNOWN_CYCLES: {[sorted(c) for c in gone]}"


# vault/ is a kernel (its top-level modules, db/, migrations/), feature folders above it in
# this order, each importing only the kernel and the folders before it, and the composition
# root that puts the features together for the submitter. interop (the standard formats for
# other systems) comes last: it reads credentials and presentations, and nothing reads it.
FEATURES = (
    "outbox",
    "accounts",
    "credentials",
    "consent",
    "presentations",
    "backups",
    "reencryption",
    "erasure",
    "audit",
    "interop",
)
COMPOSITION = ("vault.operations", "vault.setup")


def vault_part(module: str) -> str | None:
    """'kernel', a feature folder, 'root', or None outside vault/."""
    parts = module.split(".")
    if parts[0] != "vault" or len(parts) == 1:
        return None
    if module in COMPOSITION:
        return "root"
    return parts[1] if parts[1] in FEATURES else "kernel"


def rank(part: str) -> int:
    return -1 if part == "kernel" else len(FEATURES) if part == "root" else FEATURES.index(part)


def test_the_feature_folders_are_there() -> None:
    for feature in FEATURES:
        assert (ROOT / "vault" / feature / "__init__.py").is_file(), feature
    top_level = sorted(p.stem for p in (ROOT / "vault").glob("*.py"))
    assert len(top_level) <= 16, f"vault/ holds {len(top_level)} modules at its top: {top_level}"


def test_feature_folders_import_only_downwards() -> None:
    found = []
    for i in IMPORTS:
        a, b = vault_part(i.importer), vault_part(i.imported)
        if a is not None and b is not None and a != b and rank(b) > rank(a):
            found.append(f"{i} ({a} -> {b})")
    assert found == [], "a folder imports one above it (order: kernel, " + ", ".join(FEATURES) + ", root)"


def public_face(feature: str) -> set[str]:
    tree = ast.parse((ROOT / "vault" / feature / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"vault/{feature}/__init__.py has no __all__")


def test_features_are_used_through_their_public_face() -> None:
    faces = {f: public_face(f) for f in FEATURES}
    found = []
    for i in IMPORTS:
        parts = i.imported.split(".")
        if len(parts) < 3 or parts[0] != "vault" or parts[1] not in FEATURES:
            continue
        if i.importer.split(".")[:2] == parts[:2]:
            continue  # inside the folder
        if parts[2] not in faces[parts[1]]:
            found.append(str(i))
    assert found == [], "import the folder's public face (its __init__'s __all__) instead"


def test_every_outbox_kind_enqueued_has_an_operation() -> None:
    from vault.operations import OPS

    enqueued = set()
    for name, path in MODULES.items():
        if top(name) == "vault":
            text = path.read_text(encoding="utf-8")
            for call in ast.walk(ast.parse(text)):
                if (
                    isinstance(call, ast.Call)
                    and getattr(call.func, "attr", getattr(call.func, "id", "")) == "enqueue"
                    and len(call.args) >= 2
                    and isinstance(call.args[1], ast.Constant)
                ):
                    enqueued.add(call.args[1].value)
    assert len(enqueued) >= 12, enqueued  # the walk finds them (a few kinds are passed by name)
    assert enqueued <= OPS.keys(), sorted(enqueued - OPS.keys())


def test_only_the_settings_read_the_environment() -> None:
    # Passing the environment on to a child process (a node) is not reading a setting.
    reads = re.compile(r"os\.environ\.get|os\.getenv|os\.environ\[|environ\.get\(")
    found = [
        f"{name}:{n}"
        for name, path in MODULES.items()
        if name != "vault.config"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if reads.search(line)
    ]
    assert found == [], "read settings through vault.config.Settings"
