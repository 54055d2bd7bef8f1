"""The apps' modules import one way: down the layers, never in a circle.

Read from the source with `ast` (no Django needed), every `import` counted,
at module top or inside a function. Layers, lowest first; a module may
import its own layer and those below it (docs/architecture.md):

0. gate:          `gate/`: the domain errors, the roles, the gate's port. No app.
1. plumbing:      `config/` helpers that know no app (bulk inserts, cache,
                  outages, rate limits, the Celery app, settings).
2. people:        agencies, audit, security: who someone is, what they did,
                  their sessions. They import each other (never in a circle).
3. framework:     `config.api`, `config.admin_site`, `config.admin_base`,
                  `config.oversize`: the API and admin bases, which reach the
                  permission gate through `gate.port`.
4. notifications: the outbox and its delivery; the case domain registers its
                  objects, audiences and deadlines into it.
5. cases:         the case domain and the permission gate (`cases.access`).
6. entry points:  what Django and DRF load by name (`apps`, `admin`, `api`,
                  views, `urls`, `middleware`, `forms`, `templatetags`,
                  management commands). Each stands on its own app and the
                  framework: it imports up to the higher of the two layers,
                  and no other app's entry point. So no page or endpoint of an
                  app below `cases` imports `cases`.
7. project:       `config.urls` and `config.api.urls` (the URLconfs, which
                  list every app) and `ops` (backups and database roles).

A module may also not hide an import inside a function: imports sit at the
top, where this test and a reader see them, except in `AppConfig.ready()`
(Django allows models to be imported only once every app's are loaded) and
in `ALLOWED_INSIDE`, each with its reason.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("gate", "config", "agencies", "audit", "security", "notifications", "cases", "ops")

GATE, PLUMBING, PEOPLE, FRAMEWORK, NOTIFICATIONS, CASES, ENTRY, PROJECT = range(8)
LAYER_NAMES = (
    "gate",
    "plumbing",
    "people",
    "framework",
    "notifications",
    "cases",
    "entry points",
    "project",
)

APP_LAYERS = {
    "gate": GATE,
    "agencies": PEOPLE,
    "audit": PEOPLE,
    "security": PEOPLE,
    "notifications": NOTIFICATIONS,
    "cases": CASES,
    "ops": PROJECT,
}
#: `config` by module, longest prefix first; the rest of it is plumbing.
CONFIG_LAYERS = {
    "config.api.urls": PROJECT,
    "config.urls": PROJECT,
    "config.api": FRAMEWORK,
    "config.admin_site": FRAMEWORK,
    "config.admin_base": FRAMEWORK,
    "config.oversize": FRAMEWORK,
    "config": PLUMBING,
}
#: Modules of an app that Django or DRF load by name (patterns after the app).
ENTRY_POINTS = (
    "apps",
    "admin",
    "admin.*",
    "api",
    "api.*",
    "views",
    "*_views",
    "views_*",
    "urls",
    "middleware",
    "forms",
    "templatetags.*",
    "management.*",
)
#: Imports left inside a function on purpose: (module, imported module) -> why.
ALLOWED_INSIDE = {
    ("cases.views_mla", "cases.mla_pdf"): "fpdf2 is large; only the PDF download loads it",
}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    in_function: bool
    in_ready: bool


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` is, or lies in (`cases.models.Case` -> `cases.models`)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: dict[str, Path]):
        self.module, self.is_package, self.modules = module, is_package, modules
        self.imports: list[Import] = []
        self._functions: list[str] = []

    def _function(self, node) -> None:
        self._functions.append(getattr(node, "name", "<lambda>"))
        self.generic_visit(node)
        self._functions.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, node, names: list[str]) -> None:
        for name in names:
            target = _resolve(name, self.modules)
            if target is not None and target != self.module:
                self.imports.append(
                    Import(
                        self.module,
                        target,
                        node.lineno,
                        in_function=bool(self._functions),
                        in_ready=self._functions[:1] == ["ready"],
                    )
                )

    def visit_Import(self, node: ast.Import) -> None:
        self._add(node, [alias.name for alias in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            package = self.module if self.is_package else self.module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module or ""
        # `from pkg import mod` imports the module `pkg.mod`; `from mod import name`, `mod`.
        self._add(node, [f"{base}.{alias.name}" for alias in node.names])


def collect(root: Path = ROOT) -> list[Import]:
    modules = _modules(root)
    imports = []
    for module, path in modules.items():
        collector = _Collector(module, path.name == "__init__.py", modules)
        collector.visit(ast.parse(path.read_text(), filename=str(path)))
        imports += collector.imports
    return imports


def app_of(module: str) -> str:
    return module.split(".", 1)[0]


def is_entry_point(module: str) -> bool:
    app, _, rest = module.partition(".")
    if app in ("config", "ops", "gate") or not rest:
        return False
    return any(fnmatch.fnmatchcase(rest, pattern) for pattern in ENTRY_POINTS)


def layer_of(module: str) -> int:
    app = app_of(module)
    if app == "config":
        prefix = max(
            (p for p in CONFIG_LAYERS if module == p or module.startswith(p + ".")), key=len
        )
        return CONFIG_LAYERS[prefix]
    if is_entry_point(module):
        return ENTRY
    return APP_LAYERS[app]


def reach_of(module: str) -> int:
    """The highest layer `module` may import from."""
    if is_entry_point(module):
        return max(APP_LAYERS[app_of(module)], FRAMEWORK)
    return layer_of(module)


def layering_errors(imports: list[Import]) -> list[str]:
    errors = []
    for imp in imports:
        source, target = imp.source, imp.target
        where = f"{source}:{imp.line} imports {target}"
        if layer_of(source) == PROJECT:
            continue
        if is_entry_point(target):
            if app_of(target) != app_of(source):
                errors.append(f"{where}: another app's entry point")
            elif not is_entry_point(source):
                errors.append(f"{where}: an entry point, from below it")
            continue
        if layer_of(target) > reach_of(source):
            errors.append(
                f"{where}: {LAYER_NAMES[layer_of(target)]} is above {LAYER_NAMES[reach_of(source)]}"
            )
    return errors


def cycles(imports: list[Import]) -> list[list[str]]:
    """Every group of modules that import one another in a circle (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def hidden_imports(imports: list[Import]) -> list[str]:
    return [
        f"{imp.source}:{imp.line} imports {imp.target} inside a function"
        for imp in imports
        if imp.in_function
        and not (imp.in_ready and imp.source.endswith(".apps"))
        and (imp.source, imp.target) not in ALLOWED_INSIDE
    ]


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return collect()


def test_no_modules_import_each_other_in_a_circle(imports):
    found = cycles(imports)
    assert not found, "\n".join(" <-> ".join(group) for group in found)


def test_no_module_imports_from_a_layer_above_its_own(imports):
    errors = layering_errors(imports)
    assert not errors, "\n".join(errors)


def test_no_import_hides_inside_a_function(imports):
    hidden = hidden_imports(imports)
    assert not hidden, "\n".join(hidden)


def test_every_module_has_a_layer(imports):
    for module in _modules(ROOT):
        assert 0 <= layer_of(module) < len(LAYER_NAMES)


# --- the checks themselves fail on what they are there to catch -----------------


def _source_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for app in APPS:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_lower_layer_importing_a_higher_one_is_found(tmp_path):
    root = _source_tree(
        tmp_path,
        {"cases/access.py": "", "agencies/services.py": "from cases.access import x\n"},
    )
    assert layering_errors(collect(root)) == [
        "agencies.services:1 imports cases.access: cases is above people"
    ]


def test_an_admin_page_below_cases_importing_cases_is_found(tmp_path):
    root = _source_tree(
        tmp_path,
        {"cases/access.py": "", "audit/admin.py": "from cases import access\n"},
    )
    assert layering_errors(collect(root)) == [
        "audit.admin:1 imports cases.access: cases is above framework"
    ]


def test_an_admin_importing_another_apps_admin_is_found(tmp_path):
    root = _source_tree(
        tmp_path,
        {"cases/admin/base.py": "", "audit/admin.py": "from cases.admin.base import Base\n"},
    )
    assert layering_errors(collect(root)) == [
        "audit.admin:1 imports cases.admin.base: another app's entry point"
    ]


def test_a_circle_through_a_function_level_import_is_found(tmp_path):
    root = _source_tree(
        tmp_path,
        {
            "notifications/outbox.py": "def publish():\n    from .tasks import deliver\n",
            "notifications/tasks.py": "from . import outbox\n",
        },
    )
    imports = collect(root)
    assert cycles(imports) == [["notifications.outbox", "notifications.tasks"]]
    assert hidden_imports(imports) == [
        "notifications.outbox:2 imports notifications.tasks inside a function"
    ]


def test_an_import_inside_ready_of_an_app_config_is_allowed(tmp_path):
    root = _source_tree(
        tmp_path,
        {
            "cases/checks.py": "",
            "cases/apps.py": "class C:\n    def ready(self):\n        from . import checks\n",
        },
    )
    assert hidden_imports(collect(root)) == []
