"""Pure modules: importable and testable without the web framework (and most without the ORM).

One list of every pure module; each is imported alone in a fresh interpreter. The import-linter
contract `pure-cores` (pyproject.toml) checks the same for the cores statically.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

WEB = ("flask", "flask_login", "flask_sqlalchemy", "flask_wtf", "werkzeug")
ORM = ("sqlalchemy",)

# Numerical and text cores, the file reader and the shared rules: no Flask, no SQLAlchemy.
PURE = [
    "cxactions.analytics.panel",
    "cxactions.analytics.estimators",
    "cxactions.analytics.cs",
    "cxactions.analytics.fixed_effects",
    "cxactions.analytics.ranking",
    "cxactions.analytics.distributions",
    "cxactions.analytics.drivers",
    "cxactions.analytics.priorities",
    "cxactions.analytics.simulator",
    "cxactions.language.analysis",
    "cxactions.language.tagging",
    "cxactions.imports.formats",
    "cxactions.imports.encodings",
    "cxactions.imports.values",
    "cxactions.imports.results",
    "cxactions.imports.reader",
    "cxactions.library.seed_files",
    "cxactions.foundations.csv_export",
    "cxactions.foundations.paging",
    "cxactions.foundations.scales",
    "cxactions.foundations.vocabulary",
    "cxactions.foundations.charts",
    "cxactions.foundations.translation",
]
# Database helpers that know SQLAlchemy but not Flask.
FLASK_FREE = [
    "cxactions.foundations.db_types",
    "cxactions.foundations.changes",
    "cxactions.foundations.trees",
    "cxactions.search.engine",
]


def _loaded_from(module: str, packages: tuple[str, ...]) -> list[str]:
    code = (
        "import json, sys\n"
        f"import {module}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(packages)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_neither_flask_nor_sqlalchemy(module):
    assert _loaded_from(module, WEB + ORM) == []


@pytest.mark.parametrize("module", FLASK_FREE)
def test_database_helper_imports_no_flask(module):
    assert _loaded_from(module, WEB) == []
