"""The shape of the code: imports without cycles, service areas that talk to each other
only through their public surface, and no imports hidden inside functions.

`lint-imports` (pyproject.toml) holds the order of the layers and of the service areas;
these tests hold what it cannot say.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("auditapp", "forms", "scoring", "reports")
SERVICES = "auditapp.services"
# create_app builds the app from every part, inside the function, so that the worker
# can import the package for create_app: its imports are the one allowed exception.
FACTORY = "auditapp"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    return {
        module: set() if module == FACTORY else graph.find_modules_directly_imported_by(module)
        for module in graph.modules
    }


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    """Function-level imports count too: grimp reads every import statement."""
    assert _cycles(_edges(graph)) == []


def _area(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if module.startswith(SERVICES + ".") and len(parts) > 2 else None


def test_an_area_reaches_another_only_through_its_init(graph: grimp.ImportGraph) -> None:
    crossings = []
    for importer in sorted(graph.modules):
        source = _area(importer)
        if source is None:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            target = _area(imported)
            if target is not None and target != source and imported != f"{SERVICES}.{target}":
                crossings.append(f"{importer} -> {imported}")
    assert crossings == []


def test_the_area_rule_sees_a_private_import() -> None:
    assert _area("auditapp.services.visits.evidence") == "visits"
    assert _area("auditapp.services.visits") == "visits"
    assert _area("auditapp.views.review") is None


def _local_project_imports(path: Path, root: Path = ROOT) -> Iterator[str]:
    """Imports of the project's own code inside functions (TYPE_CHECKING blocks are
    module-level, so they never show here)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom):
                ours = node.level > 0 or (node.module or "").split(".")[0] in PACKAGES
            elif isinstance(node, ast.Import):
                ours = any(alias.name.split(".")[0] in PACKAGES for alias in node.names)
            else:
                continue
            if ours:
                yield f"{path.relative_to(root)}:{node.lineno} in {function.name}"


def test_no_project_import_hides_inside_a_function() -> None:
    found = [
        where
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for where in _local_project_imports(path)
    ]
    assert [w for w in found if not w.startswith("auditapp/__init__.py:")] == []
    assert all(w.endswith(" in create_app") for w in found)


def test_the_local_import_finder_sees_one(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "def f():\n    from .models import User\n    import json\n    import scoring\n"
    )
    assert list(_local_project_imports(module, tmp_path)) == ["probe.py:2 in f", "probe.py:4 in f"]


def _test_module_imports(path: Path, root: Path = ROOT) -> Iterator[str]:
    """Imports of a test module (test_*.py), absolute or relative, anywhere in the file:
    what tests share lives in modules of their own (tests/web/worlds/ and its like)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(root).parent.parts
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = (*base, *node.module.split(".")) if node.module else base
            named = [module, *((*module, alias.name) for alias in node.names)]
        elif isinstance(node, ast.Import):
            named = [tuple(alias.name.split(".")) for alias in node.names]
        else:
            continue
        for parts in named:
            if parts[-1].startswith("test_") and root.joinpath(*parts).with_suffix(".py").is_file():
                yield f"{path.relative_to(root)}:{node.lineno} imports {'.'.join(parts)}"


def test_no_module_of_the_tests_imports_a_test_module() -> None:
    found = [
        where
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for where in _test_module_imports(path)
    ]
    assert found == []


def test_the_test_import_finder_sees_each_spelling(tmp_path: Path) -> None:
    area = tmp_path / "tests" / "web" / "area"
    area.mkdir(parents=True)
    (area / "test_world.py").write_text("W = 1\n")
    (area / "worlds.py").write_text("from tests.conftest import test_database_url\nW = 1\n")
    probe = area / "test_probe.py"
    probe.write_text(
        "from tests.web.area.test_world import W\n"
        "from tests.web.area import test_world\n"
        "import tests.web.area.test_world\n"
        "from .test_world import W\n"
        "from . import test_world, worlds\n"
        "from ..area.worlds import W\n"
        "def f():\n    from .test_world import W\n"
    )
    found = list(_test_module_imports(probe, tmp_path))
    assert [int(w.split(":")[1].split()[0]) for w in found] == [1, 2, 3, 4, 5, 8]
    assert found[4] == "tests/web/area/test_probe.py:5 imports tests.web.area.test_world"
    assert list(_test_module_imports(area / "worlds.py", tmp_path)) == []


def _session_calls(path: Path, root: Path = ROOT) -> Iterator[str]:
    """Calls of ``<something>.session.commit()`` or ``.rollback()`` in a module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("commit", "rollback")
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "session"
        ):
            yield f"{path.relative_to(root)}:{node.lineno} {node.func.attr}"


def test_a_view_changes_data_only_through_the_transaction_helper() -> None:
    views = ROOT / "auditapp" / "views"
    found = [
        where
        for path in sorted(views.rglob("*.py"))
        if path.name != "transaction.py"
        for where in _session_calls(path)
    ]
    assert found == []
    assert len(list(_session_calls(views / "transaction.py"))) == 3  # commit, two rollbacks


def test_the_session_call_finder_sees_one(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "def f(db):\n    db.session.commit()\n    db.session.rollback()\n    db.commit()\n"
    )
    assert list(_session_calls(module, tmp_path)) == ["probe.py:2 commit", "probe.py:3 rollback"]
