"""The shape of the code base, checked: imports run one way, modules stay small, settings are read in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from scanner.report_reader import FORMER_SECTIONS, SECTIONS

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scanner", "webui")
MAX_MODULE_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            relative = path.relative_to(ROOT).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """Project modules `module` imports anywhere in its body (function-level imports count: they are circles too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known and name != module}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
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


def _without_package_parents(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's __init__ that re-exports its own modules is not a circle with them: drop edges from a
    package to its own submodules."""
    return {
        module: {target for target in targets if not target.startswith(module + ".")}
        for module, targets in graph.items()
    }


def test_no_import_circles_in_scanner_or_webui():
    modules = _modules()
    graph = {name: _imported(name, path, set(modules)) for name, path in modules.items()}
    assert _cycles(_without_package_parents(graph)) == []


def _environment_variables_read() -> set[str]:
    """Every environment variable the service reads: webui/settings.py, gunicorn's config, dj-database-url's."""
    names = {"DATABASE_URL"}  # read by dj_database_url.config()
    for path in (*(ROOT / "webui").glob("settings*.py"), ROOT / "deploy" / "gunicorn.conf.py"):
        text = path.read_text()
        names |= set(
            re.findall(r"""(?:os\.environ\.get|env_list|env_bool|os\.getenv)\(\s*["']([A-Z0-9_]+)["']""", text)
        )
        names |= set(re.findall(r'os\.environ\["([A-Z0-9_]+)"\]', text))
    return names


def _environment_variables_documented() -> set[str]:
    names: set[str] = set()
    for line in (ROOT / "docs" / "settings.md").read_text().splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_every_setting_is_documented_and_every_documented_setting_exists():
    assert _environment_variables_read() == _environment_variables_documented()


def test_settings_are_read_only_through_scanner_config():
    pattern = re.compile(r"settings\.(SCANNER|CELERY)_[A-Z_]+")
    readers = {
        str(path.relative_to(ROOT))
        for path in _modules().values()
        if pattern.search(path.read_text())
        and path.relative_to(ROOT).as_posix()
        not in ("scanner/config.py", "webui/settings.py", "webui/settings_security.py")
    }
    assert readers == set()


WRITE_METHODS = {
    "save",
    "delete",
    "create",
    "update",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
# The API app's own model (tokens) is written by its service module, as scanner's models are by scanner/services.
WEBUI_SERVICE_MODULES = {"webui/api/tokens.py"}


def _is_model_write(call: ast.Call) -> bool:
    """`X.objects....create(...)`, `queryset.filter(...).update(...)`, `instance.save()`, `instance.delete()`."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in WRITE_METHODS:
        return False
    if func.attr in {"save", "delete"}:
        return True
    chain = ast.unparse(func.value)
    return ".objects" in chain or ".filter(" in chain or ".exclude(" in chain or chain.endswith("_set")


def test_webui_writes_only_through_services():
    writes = []
    for path in (ROOT / "webui").rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if "migrations" in path.parts or relative in WEBUI_SERVICE_MODULES or relative.startswith("webui/settings"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _is_model_write(node):
                writes.append(f"{relative}:{node.lineno} {ast.unparse(node.func)}")
    assert writes == []


def test_no_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): length
        for path in _modules().values()
        if (length := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


# The stored report's top-level keys (tests/test_report_reader.py checks them against scanner/report.py's
# document) and the places older documents had some.
REPORT_KEYS = SECTIONS | FORMER_SECTIONS
# A database lookup into stored documents spelled by hand: `"latest_scan__result__web_security__score"`.
REPORT_LOOKUP = re.compile(rf"(^|__)result__({'|'.join(sorted(REPORT_KEYS))})(__|$)")
# What a stored document is called where it is read: `report`, `document`, `doc`, `scan.result`,
# `(scan.result or {})`, `previous.result`...
REPORT_RECEIVER = re.compile(r"^\(?(report|document|doc|[\w.]*\.result)( or \{\})?\)?$")
REPORT_MODULES = {"scanner/report.py", "scanner/report_reader.py", "scanner/report_sections.py"}


def _report_key_reads(path: Path, root: Path = ROOT) -> list[str]:
    """`report["grade"]`, `document.get("certificate")`, `(scan.result or {}).get("findings")` and the like."""
    reads = []
    for node in ast.walk(ast.parse(path.read_text())):
        receiver = key = None
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Constant):
            receiver, key = node.value, node.slice.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            receiver, key = node.func.value, node.args[0].value
        if receiver is not None and key in REPORT_KEYS and REPORT_RECEIVER.match(ast.unparse(receiver)):
            reads.append(f"{path.relative_to(root).as_posix()}:{node.lineno} {ast.unparse(receiver)}[{key!r}]")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and REPORT_LOOKUP.search(node.value):
            reads.append(f"{path.relative_to(root).as_posix()}:{node.lineno} {node.value}")
        elif isinstance(node, ast.keyword) and node.arg and REPORT_LOOKUP.search(node.arg):
            reads.append(f"{path.relative_to(root).as_posix()}:{node.lineno} {node.arg}")
    return reads


def test_the_stored_report_is_read_only_through_the_report_reader():
    reads = [
        read
        for path in _modules().values()
        if path.relative_to(ROOT).as_posix() not in REPORT_MODULES
        for read in _report_key_reads(path)
    ]
    assert reads == []


def test_the_report_reader_rule_catches_a_read_by_key(tmp_path):
    # The rule above must not pass because it matches nothing: each of these is a read it exists to forbid.
    module = tmp_path / "reads.py"
    module.write_text(
        'a = report["grade"]\nb = (scan.result or {}).get("certificate")\nc = document.get("findings", [])\n'
        'd = Scan.objects.values_list("result__grade__caps")\ne = Q(latest_scan__result__hsts__present=True)\n'
    )
    reads = {read.split(" ", 1)[1] for read in _report_key_reads(module, tmp_path)}
    assert reads == {
        "report['grade']",
        "scan.result or {}['certificate']",
        "document['findings']",
        "result__grade__caps",
        "latest_scan__result__hsts__present",
    }


# sslyze's and nassl's underscore names are not a promised API: one module imports them all, so that an upgrade
# that moves one breaks in a single, known place.
SSLYZE_COMPAT_MODULE = "scanner/engine/runtime/sslyze_compat.py"
PRIVATE_SOURCES = ("sslyze", "nassl", "tls_parser")


def _private_sslyze_imports(source: str) -> list[str]:
    """Imports in `source` that reach a private sslyze/nassl module or name (a part starting with "_")."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            module, names = "", [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            dotted = f"{module}.{name}" if module else name
            parts = dotted.split(".")
            if parts[0] in PRIVATE_SOURCES and any(part.startswith("_") for part in parts):
                found.append(dotted)
    return found


def test_private_sslyze_import_detector_sees_private_modules_and_names():
    source = (
        "from nassl._nassl import OpenSSLError\n"
        "from sslyze.plugins.elliptic_curves_plugin import _test_curve\n"
        "import sslyze.plugins.robot._robot_tester\n"
        "from sslyze import ScanCommand\n"
    )
    assert _private_sslyze_imports(source) == [
        "nassl._nassl.OpenSSLError",
        "sslyze.plugins.elliptic_curves_plugin._test_curve",
        "sslyze.plugins.robot._robot_tester",
    ]


def test_only_the_compat_module_imports_private_sslyze_or_nassl_names():
    offenders = []
    for package in (*PACKAGES, "tests", "benchmarks", "tools"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative == SSLYZE_COMPAT_MODULE or "migrations" in path.parts:
                continue
            offenders += [f"{relative}: {name}" for name in _private_sslyze_imports(path.read_text())]
    assert offenders == []
