"""Imports run one way (DESIGN §9): a new arrow against the direction fails here, function-level imports included."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "mailbot"

# Lowest first; a module may import its own layer's modules and any lower layer's.
LAYERS = (
    ("leaf", ("mailbot.errors", "mailbot.clock")),
    ("domain", ("mailbot.domain",)),
    ("pure", ("mailbot.inbound", "mailbot.outbound", "mailbot.config", "mailbot.catalog", "mailbot.data")),
    ("adapters", ("mailbot.adapters",)),
    ("app", ("mailbot.app",)),
    ("runtime", ("mailbot.runtime",)),
    ("demo", ("mailbot.demo",)),
    ("cli", ("mailbot.cli", "mailbot.__main__", "mailbot")),
)
# Inside app: the modules every handler may use. The rest are handlers, which import none of each other;
# only bootstrap knows them all.
APP_SHARED = {"mailbot.app", "mailbot.app.unit", "mailbot.app.mailer", "mailbot.app.files", "mailbot.app.keywords",
              "mailbot.app.receive", "mailbot.app.complaints", "mailbot.app.conversation"}
APP_WIRING = "mailbot.app.bootstrap"


def _modules() -> dict[str, Path]:
    mods = {}
    for f in PKG.rglob("*.py"):
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """Every mailbot module `module` imports, at any depth of its code (absolute and relative imports)."""
    path = MODULES[module]
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            prefix = node.module or ""
            if node.level:
                prefix = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            names = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
        for name in names:
            target = _resolve(name) if name.startswith("mailbot") else None
            if target and target != module:
                found.add(target)
    return found


def layer_of(module: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS"
    return best[0]


def wrong_way(modules: dict[str, Path] | None = None) -> list[str]:
    problems = []
    for module in sorted(MODULES if modules is None else modules):
        for target in sorted(imports_of(module)):
            if target in ("mailbot",):       # the package's own __init__ holds nothing
                continue
            if layer_of(target) > layer_of(module):
                problems.append(f"{module} -> {target} ({LAYERS[layer_of(module)][0]} imports "
                                f"{LAYERS[layer_of(target)][0]})")
    return problems


def handler_crossings() -> list[str]:
    problems = []
    handlers = {m for m in MODULES if m.startswith("mailbot.app.") and m not in APP_SHARED and m != APP_WIRING}
    for module in sorted(MODULES):
        if not module.startswith("mailbot.app") or module == APP_WIRING:
            continue
        for target in imports_of(module) & (handlers | {APP_WIRING}):
            problems.append(f"{module} -> {target}")
    return problems


def test_every_import_runs_from_an_outer_layer_to_an_inner_one():
    assert wrong_way() == []


def test_handlers_import_no_other_handler_and_only_bootstrap_knows_them():
    assert handler_crossings() == []


def test_the_domain_imports_only_the_standard_library():
    for path in (PKG / "domain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                tops = [(node.module or "").split(".")[0]]
            else:
                continue
            for top in tops:
                assert top in sys.stdlib_module_names or top == "__future__", f"{path.name}: {top}"


def test_no_module_of_the_product_imports_the_tests():
    test_modules = {p.stem for p in (ROOT / "tests").glob("*.py")}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in test_modules | {"tests"}, f"{module} imports {name}"


def test_the_checks_see_a_wrong_arrow(tmp_path, monkeypatch):
    """The direction test itself: a domain module importing the app, and a handler importing another, are found."""
    fake = tmp_path / "mailbot"
    (fake / "domain").mkdir(parents=True)
    (fake / "app").mkdir()
    (fake / "domain" / "bad.py").write_text("def f():\n    from ..app import customer\n")
    (fake / "app" / "customer.py").write_text("")
    (fake / "app" / "digest.py").write_text("from .customer import x\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PKG", fake)
    monkeypatch.setattr(sys.modules[__name__], "MODULES", _modules())
    assert wrong_way() == ["mailbot.domain.bad -> mailbot.app.customer (domain imports app)"]
    assert handler_crossings() == ["mailbot.app.digest -> mailbot.app.customer"]
