"""units.csv: the unit tree (stores, regions...), loaded by the shared tree loader."""

from __future__ import annotations

from cxactions.imports.loaders.tree import TreeLoader
from cxactions.units.models import Unit


class UnitsLoader(TreeLoader):
    model = Unit
    key_column = "unit_id"
    what = "unit_id"
    columns = {"name": "name", "kind": "kind"}
