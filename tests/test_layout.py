"""The layout holds: the pipeline's imports run downhill, the role model needs no Flask, domain
modules never reach for the request, and pytest finds no tests in the product."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "optintel"

# The way of an event, in order. A module of a stage may import modules of its own stage or of
# later ones, never of an earlier one: work flows down, and what comes back (a retry falling
# due, a delivery retried by hand) comes back through the database and the queue.
PIPELINE = (
    ("contact change", ("optintel.contact_changes",)),
    ("event", ("optintel.events",)),
    ("dispatch", ("optintel.deliveries.dispatch",)),
    ("delivery", ("optintel.deliveries.queueing", "optintel.deliveries.reconciler",
                  "optintel.deliveries.retry_by_hand", "optintel.deliveries.release")),
    ("execute", ("optintel.deliveries.executor", "optintel.deliveries.leases",
                 "optintel.deliveries.rule_settings")),
    ("attempt", ("optintel.deliveries.attempts", "optintel.deliveries.retries",
                 "optintel.deliveries.circuit_breaker", "optintel.deliveries.endpoint_health",
                 "optintel.deliveries.pause_notices")),
    ("log", ("optintel.tracking_log",)),
)
# The packages whose every module must have a stage above.
PIPELINE_PACKAGES = ("events", "deliveries", "tracking_log")
# Modules that serve requests: blueprints, the API, the CLI, and the view helpers.
VIEW_PACKAGES = {"api", "api_keys", "auth", "campaigns", "commands", "dashboard", "lists", "logs",
                 "mailers", "public", "settings", "tracking", "users"}
VIEW_MODULES = {"optintel", "optintel.bulk_views", "optintel.crud", "optintel.errors",
                "optintel.extensions", "optintel.guards", "optintel.rendering",
                "optintel.request_input", "optintel.security_headers",
                "optintel.template_helpers", "optintel.uploads"}
REQUEST_STATE = {("flask", "request"), ("flask", "g"), ("flask", "session"),
                 ("flask_login", "current_user")}


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules():
    """{dotted name: path} of every module of the product."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name, source, is_package=False):
    """[(imported module, imported name or None)] of a module's source, relative imports made
    absolute; `from package import module` names both the package and package.module."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found += [(base, alias.name) for alias in node.names]
    return found


def stage_of(module):
    """The index of the pipeline stage a module belongs to, or None outside the pipeline."""
    for index, (_, prefixes) in enumerate(PIPELINE):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def uphill_imports(name, source, is_package=False):
    """The imports of a pipeline module that reach an earlier stage, as readable lines."""
    own = stage_of(name)
    if own is None:
        return []
    wrong = []
    for module, imported in imports_of(name, source, is_package):
        targets = [module] + ([f"{module}.{imported}"] if imported else [])
        stages = [stage_of(t) for t in targets if stage_of(t) is not None]
        if stages and max(stages) < own:
            wrong.append(f"{name} ({PIPELINE[own][0]}) imports {targets[-1]} "
                         f"({PIPELINE[max(stages)][0]})")
    return wrong


def test_every_module_of_the_pipeline_packages_has_a_stage():
    unplaced = [name for name in product_modules()
                if name.split(".")[1:2] and name.split(".")[1] in PIPELINE_PACKAGES
                and name.count(".") > 1 and stage_of(name) is None]
    assert unplaced == []


def test_the_pipeline_imports_run_downhill():
    wrong = []
    for name, path in product_modules().items():
        wrong += uphill_imports(name, path.read_text(), path.name == "__init__.py")
    assert wrong == []


def test_an_import_reaching_back_up_the_pipeline_is_found():
    source = "from ..contact_changes import add_contacts\nfrom . import attempts\n"
    assert uphill_imports("optintel.deliveries.executor", source) == [
        "optintel.deliveries.executor (execute) imports optintel.contact_changes.add_contacts "
        "(contact change)"]
    assert uphill_imports("optintel.contact_changes", "from .events import outbox\n") == []


def test_the_role_model_imports_no_flask():
    source = (PACKAGE / "access.py").read_text()
    flask_imports = [module for module, _ in imports_of("optintel.access", source)
                     if module.split(".")[0].startswith("flask")]
    assert flask_imports == []


def _is_view(name):
    parts = name.split(".")
    return name in VIEW_MODULES or (len(parts) > 1 and parts[1] in VIEW_PACKAGES)


def test_no_domain_module_reaches_for_the_request():
    domain = {name: path for name, path in product_modules().items() if not _is_view(name)}
    assert "optintel.access" in domain and "optintel.deliveries.executor" in domain
    reaching = [f"{name}: {module}.{imported}" for name, path in domain.items()
                for module, imported in imports_of(name, path.read_text(),
                                                   path.name == "__init__.py")
                if (module, imported) in REQUEST_STATE]
    attributes = [f"{name}: flask.{node.attr}" for name, path in domain.items()
                  for node in ast.walk(ast.parse(path.read_text()))
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in ("flask", "flask_login")
                  and node.attr in {n for _, n in REQUEST_STATE}]
    assert reaching + attributes == []


@pytest.mark.parametrize("path", ["optintel", "."])
def test_pytest_collects_no_product_code(path):
    args = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    if path == ".":
        args += ["--ignore=tests", "--ignore=bench", "--ignore=migrations", "."]
    else:
        args.append(path)
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    # Exit status 5: no tests were collected.
    assert result.returncode == 5, result.stdout + result.stderr
    assert "optintel/" not in result.stdout
