"""The import rules of docs/architecture.md, checked on every module's syntax tree (no import is executed)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("causes", "db", "api", "edge_agent", "ui_common", "ui_client", "ui_edge", "meterit", "bench")
DASHBOARDS = ("ui_common", "ui_client", "ui_edge")
# Who may not import whom: importer package -> forbidden top-level packages.
FORBIDDEN = {
    "causes": {p for p in PACKAGES if p != "causes"},
    "db": {"api", "edge_agent", "meterit", "bench", *DASHBOARDS},
    "api": {"edge_agent", *DASHBOARDS},
    "edge_agent": {"api", *DASHBOARDS},
    **{ui: {"db", "api", "edge_agent", "meterit", "bench"} for ui in DASHBOARDS},
}
# Each deployable's own part of db/ (besides the shared root): the edge never imports central's and vice versa.
DEPLOYABLE_DB = {"edge_agent": "edge", "api": "central"}
# The database modules each deployable ships on its own; the rest of db/ is shared by both.
EDGE_DB = ("db.edge.models", "db.edge.store", "db.edge.outbox", "db.edge.threaded", "db.edge")
SHARED_DB = (
    "db",
    "db.clock",
    "db.engine",
    "db.pg_codecs",
    "db.errors",
    "db.inventory",
    "db.inventory_history",
    "db.logs",
    "db.migrate",
    "db.migration_env",
    "db.types",
    "db.central.secrets",
    "db.staleness",
    "db.energy.units",
    "db.wire",
    "db.energy",
    "db.energy.consumption",
)


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path) -> set[str]:
    """Every module a file imports, absolute (relative imports resolved against its package)."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            if (root / base.replace(".", "/")).is_dir():  # `from package import module`
                found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _db_side(module: str) -> str:
    """'edge', 'shared' or 'central' for a module of db/ (central: whatever is neither of the others)."""
    if _within(module, EDGE_DB):
        return "edge"
    if module in SHARED_DB or _within(module, ("db.energy",)):
        return "shared"
    return "central"


def _python_files() -> list[Path]:
    return [
        p
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in p.parts
    ]


def layer_violations(files: list[Path], root: Path = ROOT) -> list[str]:
    """Each import that breaks a rule, as 'importer -> imported (rule)'."""
    broken = []
    for path in files:
        importer = _module_name(path, root)
        top = importer.split(".")[0]
        for imported in sorted(_imports(path, root)):
            target = imported.split(".")[0]
            if target in FORBIDDEN.get(top, ()):
                broken.append(f"{importer} -> {imported} ({top} may not import {target})")
            elif top == "db" == target and _db_side(imported) not in ("shared", _db_side(importer)):
                sides = f"db {_db_side(importer)} may not import db {_db_side(imported)}"
                broken.append(f"{importer} -> {imported} ({sides})")
            elif (
                target == "db"
                and top in DEPLOYABLE_DB
                and _db_side(imported) not in ("shared", DEPLOYABLE_DB[top])
            ):
                broken.append(f"{importer} -> {imported} ({top} may not import db {_db_side(imported)})")
    return broken


def test_every_import_keeps_to_the_layers():
    assert _python_files(), "no product module found"
    assert layer_violations(_python_files()) == []


def test_a_forbidden_import_is_reported(tmp_path):
    """The check itself: an api import in db/ and a central import in an edge db module are both caught."""
    (tmp_path / "db").mkdir()
    bad_db = tmp_path / "db" / "sneaky.py"
    bad_db.write_text("from api.settings import Settings\n")
    (tmp_path / "db" / "edge").mkdir()
    bad_edge = tmp_path / "db" / "edge" / "probe.py"
    bad_edge.write_text("from db.central.models import Site\n")
    ui = tmp_path / "ui_edge"
    ui.mkdir()
    (ui / "state.py").write_text("from . import queries\nfrom edge_agent.models import Meter\n")
    (tmp_path / "edge_agent").mkdir()
    agent = tmp_path / "edge_agent" / "probe.py"
    agent.write_text("from db.central.models import Site\nfrom db.clock import utcnow\n")
    found = layer_violations([bad_db, bad_edge, ui / "state.py", agent], tmp_path)
    assert found == [
        "db.sneaky -> api.settings (db may not import api)",
        "db.edge.probe -> db.central.models (db edge may not import db central)",
        "ui_edge.state -> edge_agent.models (ui_edge may not import edge_agent)",
        "edge_agent.probe -> db.central.models (edge_agent may not import db central)",
    ]
