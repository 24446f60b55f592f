"""The layout shows the design: aeviz's packages are layers whose imports run one way (LAYERS), each package
says what it owns, few modules sit at the top level, no module re-exports another's names, no import cycle
between modules, and functions of at most ~60 lines (read from the source with ast, nothing imported)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("aeviz", "ui", "app_pages")
MAX_FUNCTION_LINES = 60
# Known to be over, left to their owners; remove an entry once it is short. Anything else over the limit fails.
BEING_SPLIT = {"app_pages/explore.py: draw_section"}
CYCLES_LEFT: set[tuple[str, ...]] = set()


def sources() -> list[Path]:
    return sorted(path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py"))


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [f"{path.relative_to(ROOT)}: {node.name} has {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_is_over_60_lines():
    long = [line for path in sources() for line in long_functions(path)]
    assert not [line for line in long if line.split(" has ")[0] not in BEING_SPLIT], (
        "split these into steps:\n" + "\n".join(long))


def imported_modules(path: Path, known: set[str], root: Path) -> set[str]:
    """The aeviz modules `path` imports, anywhere in it (a lazy import inside a function counts too).
    `from package import name` counts as the submodule package.name when there is one."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in known else base)
    return {name for name in found if name in known}


def import_cycles(root: Path = ROOT) -> list[list[str]]:
    paths = {module_name(p, root): p for p in (root / "aeviz").rglob("*.py")}
    known = set(paths)
    graph = {name: imported_modules(path, known, root) - {name} for name, path in paths.items()}
    # A package's __init__ re-exporting its submodules is not a cycle: a submodule importing a sibling
    # names the sibling, not the package. Only edges into a module's own package __init__ are dropped.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
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
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_aeviz_has_no_import_cycle():
    cycles = [cycle for cycle in import_cycles() if tuple(cycle) not in CYCLES_LEFT]
    assert not cycles, "modules that import each other (directly or around a loop):\n" + "\n".join(
        " <-> ".join(cycle) for cycle in cycles)


def test_the_cycle_check_finds_a_cycle(tmp_path):
    """The checker itself: two modules importing each other, one lazily, are reported; a one-way import
    and a package's __init__ re-exporting its submodules are not."""
    package = tmp_path / "aeviz"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "one.py").write_text("def f():\n    from aeviz.two import g\n")
    (package / "two.py").write_text("from aeviz import one\n")
    (package / "three.py").write_text("import aeviz.one\n")
    (package / "sub" / "__init__.py").write_text("from aeviz.sub.leaf import x\n")
    (package / "sub" / "leaf.py").write_text("from aeviz.sub.other import y\nx = 1\n")
    (package / "sub" / "other.py").write_text("from . import leaf\ny = 2\n")
    assert import_cycles(tmp_path) == [["aeviz.one", "aeviz.two"], ["aeviz.sub.leaf", "aeviz.sub.other"]]


# ---------------------------------------------------------------------------- packages as layers
# Bottom first. A package (or top-level module) may import only from the layers before its own.
LAYERS = (
    {"errors"},
    {"params", "safe_io", "server_settings", "serving", "facts", "run_origin", "lru"},
    {"data"},
    {"variants"},
    {"analysis"},
    {"figures", "training"},
    {"runs", "links"},
    {"sweeps"},
    {"cluster"},
    {"jobs", "export"},
    {"recommender", "applications"},
    {"lessons", "bench"},
    {"cli"},
    {"__main__"},
)
MAX_TOP_LEVEL_MODULES = 12  # besides the packages, __init__ included


def unit_of(module: str) -> str:
    """The layer unit of a module: its top-level package under aeviz, or the top-level module itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "aeviz"


def package_imports(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> the modules where that happens, lazy imports included."""
    paths = {module_name(p, root): p for p in (root / "aeviz").rglob("*.py")}
    edges: dict[tuple[str, str], list[str]] = {}
    for name, path in paths.items():
        for target in imported_modules(path, set(paths), root):
            pair = (unit_of(name), unit_of(target))
            if pair[0] != pair[1] and "aeviz" not in pair:
                edges.setdefault(pair, []).append(name)
    return edges


def test_imports_between_packages_run_down_the_layers():
    layer = {unit: i for i, units in enumerate(LAYERS) for unit in units}
    units = {unit_of(module_name(p)) for p in (ROOT / "aeviz").rglob("*.py")} - {"aeviz"}
    assert units <= set(layer), f"place these in LAYERS: {sorted(units - set(layer))}"
    upward = [f"{a} -> {b} (in {', '.join(sorted(set(where)))})" for (a, b), where in package_imports().items()
              if layer[b] >= layer[a]]
    assert not upward, "imports that climb a layer or cross within one:\n" + "\n".join(upward)


def test_every_package_says_what_it_owns():
    for init in sorted((ROOT / "aeviz").glob("*/__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring and len(docstring) > 40, f"{init.relative_to(ROOT)} needs a docstring of what it owns"


def test_few_modules_at_the_top_level():
    modules = sorted(p.name for p in (ROOT / "aeviz").glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def test_no_re_export_shims_outside_package_inits():
    shims = [f"{path.relative_to(ROOT)}:{n}" for path in sources() if path.name != "__init__.py"
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if "noqa: F401" in line and line.lstrip().startswith("from aeviz")]
    assert not shims, "import these names from their home instead:\n" + "\n".join(shims)


def test_the_layer_check_finds_an_upward_import(tmp_path):
    package = tmp_path / "aeviz"
    for name in ("low", "high"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text('"""x"""\n')
    (package / "__init__.py").write_text("")
    (package / "low" / "loader.py").write_text("def f():\n    from aeviz.high.trainer import Trainer\n")
    (package / "high" / "trainer.py").write_text("from aeviz.low.loader import f\n")
    assert set(package_imports(tmp_path)) == {("low", "high"), ("high", "low")}


MAX_LAZY_IMPORTS = 40  # outside aeviz/cli, whose commands import what each needs when it runs


def lazy_aeviz_imports(path: Path) -> list[tuple[int, str]]:
    """(line, the line above it and the statement) of each `from aeviz... import` inside a function."""
    lines = path.read_text().splitlines()
    found = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if (in_function and isinstance(child, ast.ImportFrom) and not child.level
                    and (child.module or "").startswith("aeviz")):
                found.append((child.lineno, "\n".join(lines[max(0, child.lineno - 2):child.end_lineno])))
            visit(child, inside)

    visit(ast.parse("\n".join(lines)), False)
    return found


def test_imports_sit_at_the_top_unless_they_defer_a_heavy_dependency():
    lazy = [(path, line, text) for path in (ROOT / "aeviz").rglob("*.py") if "cli" not in path.parts
            for line, text in lazy_aeviz_imports(path)]
    assert len(lazy) <= MAX_LAZY_IMPORTS, f"{len(lazy)} function-level imports of aeviz outside the CLI"
    unexplained = [f"{path.relative_to(ROOT)}:{line}" for path, line, text in lazy if "# lazy:" not in text]
    assert not unexplained, "say what each defers with a '# lazy: ...' comment, or import at the top:\n" + (
        "\n".join(unexplained))


# Other libraries' internals, each reached for a reason said where it is used.
FOREIGN_PRIVATES = {
    "aeviz/analysis/umap_embed.py: value._cache",          # numba's Dispatcher: is its disk cache on?
    "aeviz/cluster/connection.py: getattr(ray, '_private')",  # Ray's auto-connect hook, switched off
    "tests/test_server_config.py: config._config_options",  # Streamlit's table of known options
    "tests/sweeps/test_sweeps.py: os._exit",               # the standard library's public os._exit
}


def private_reaches(path: Path) -> list[str]:
    """`x._name` where x is not self, cls or super(), and getattr/setattr of "_name" (monkeypatch's too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                continue
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
                continue
            found.append(f"{ast.unparse(base)}.{node.attr}")
        elif (isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
              and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("getattr", "setattr", "delattr")
              and str(node.args[1].value).startswith("_") and not str(node.args[1].value).startswith("__")):
            # getattr(x, "_name"), and monkeypatch.setattr(x, "_name", ...) in tests
            found.append(f"{getattr(node.func, 'id', 'setattr')}({ast.unparse(node.args[0])}, {node.args[1].value!r})")
    return [f"{path.relative_to(ROOT).as_posix()}: {reach}" for reach in found]


def test_no_code_reaches_into_another_objects_private_state():
    paths = [*sources(), *(ROOT / "tests").rglob("*.py"), ROOT / "app.py"]
    reaches = [reach for path in paths if path.name != "test_structure.py" for reach in private_reaches(path)]
    assert not [r for r in reaches if r not in FOREIGN_PRIVATES], (
        "use the object's public interface:\n" + "\n".join(r for r in reaches if r not in FOREIGN_PRIVATES))


def test_tests_mirror_the_packages():
    """A module's tests are found by its path: tests/<package>/ for each package of aeviz; tests/app/ for the
    pages (AppTest), tests/e2e/ for the browser; only tests of the whole (layout, packaging, docs) at the top."""
    packages = {path.parent.name for path in (ROOT / "aeviz").glob("*/__init__.py")}
    folders = {path.parent.name for path in (ROOT / "tests").glob("*/__init__.py")}
    assert folders <= packages | {"app", "e2e"}, sorted(folders - packages - {"app", "e2e"})
    top = sorted(path.name for path in (ROOT / "tests").glob("test_*.py"))
    assert len(top) <= 10, f"tests at the top of tests/ (move each to its package's folder): {top}"


MAX_PAGE_IMPORTS_BELOW = 2


def test_pages_read_top_to_bottom_imports_first():
    """A page's imports sit at its top: at most two further down (after its first widgets, or in a function)."""
    late = {}
    for path in sorted((ROOT / "app_pages").glob("*.py")):
        tree = ast.parse(path.read_text())
        body_imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        first_code = next((node.lineno for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))
                           and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))), 10**9)
        below = [node.lineno for node in body_imports if node.lineno > first_code]
        nested = [node.lineno for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                  and node not in body_imports]
        if len(below) + len(nested) > MAX_PAGE_IMPORTS_BELOW:
            late[path.name] = below + nested
    assert not late, f"move these imports to the page's top: {late}"
