"""The house plan (README, Architecture): imports run one way, checked by import-linter."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cxactions"


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {contract["id"]: contract for contract in config["tool"]["importlinter"]["contracts"]}


def test_the_import_contracts_are_kept():
    lint = pathlib.Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" in done.stdout and "0 broken" in done.stdout


def test_every_package_and_top_module_has_a_layer():
    """A new feature folder or top-level module must be placed in the layers, not left out."""
    placed = {
        name.strip()
        for layer in _contracts()["layers"]["layers"]
        for name in layer.replace(":", "|").split("|")
    }
    present = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and path.name != "__init__.py")
    }
    present -= {"migrations", "models"}  # Alembic's scripts; the registry of every table
    assert present <= placed, f"not in any layer: {sorted(present - placed)}"


def test_every_pure_core_module_is_checked():
    """Each module of analytics/ and language/ is a pure core, except the one database seam."""
    checked = set(_contracts()["pure-cores"]["source_modules"])
    for folder in ("analytics", "language"):
        if f"cxactions.{folder}" in checked:
            continue
        for path in (PACKAGE / folder).glob("*.py"):
            name = f"cxactions.{folder}.{path.stem}"
            if path.stem in {"__init__", "data"}:
                continue
            assert name in checked, f"{name} is not in the pure-cores contract"


# Package edges against the layer order, each named with its reason in the README
# (Architecture, "Imports run one way"). A new one fails here until it is named there too.
CROSSING = {
    # Every feature's pages check access; auth sits above units (scopes are subtrees of units).
    ("audit", "auth"),  # and the trail's CSV names each event's user by their email now
    ("library", "auth"),
    ("plans", "auth"),
    ("surveys", "auth"),
    ("taxonomy", "auth"),
    ("units", "auth"),
    # Pages that compose higher features.
    ("units", "priorities"),
    ("units", "impact"),
    ("taxonomy", "impact"),
    ("plans", "search"),
    ("plans", "impact"),  # a plan item shows its solution's evidence; the find page ranks on it
    ("plans", "priorities"),  # the roll-up checks every store's active challenges at once
    ("plans", "crowd"),  # `cxactions reminders` also sends the notifications digest
    ("library", "crowd"),  # a solution's page holds its votes, comments and reports
    ("library", "impact"),  # ... beside its measured effect
    # One schema: plan items folded by merges and read by scorecards; a challenge's solutions.
    ("library", "plans"),
    ("taxonomy", "plans"),
    ("units", "plans"),
    ("taxonomy", "library"),
    ("surveys", "taxonomy"),  # a metric's scale may not strand a signal's threshold
}


def test_the_only_edges_against_the_order_are_the_named_ones():
    import grimp

    rank = {}
    for position, layer in enumerate(_contracts()["layers"]["layers"]):
        for name in layer.replace(":", "|").split("|"):
            rank[name.strip()] = (position, layer)
    graph = grimp.build_graph("cxactions", cache_dir=None, exclude_type_checking_imports=True)
    found = set()
    for importer in graph.modules:
        source = importer.split(".")[1] if importer.count(".") else None
        for imported in graph.find_modules_directly_imported_by(importer):
            target = imported.split(".")[1] if imported.count(".") else None
            if source in rank and target in rank and source != target:
                (high, layer), (low, _) = rank[target], rank[source]
                # A higher layer has a smaller position; siblings split by | are independent.
                if high < low or (high == low and "|" in layer):
                    found.add((source, target))
    assert found == CROSSING
