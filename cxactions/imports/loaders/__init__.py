"""The import loaders, one module per kind (``loaders/responses.py`` loads responses.csv), and
``LOADERS``, the loader class of each kind. Shared bases and rules are in ``loaders/base.py``;
units and challenges share the tree loader of ``loaders/tree.py``.
"""

from __future__ import annotations

from cxactions.imports.formats import FORMATS
from cxactions.imports.loaders.adoptions import AdoptionsLoader
from cxactions.imports.loaders.base import Loader
from cxactions.imports.loaders.challenges import ChallengesLoader
from cxactions.imports.loaders.operations import OperationsLoader
from cxactions.imports.loaders.responses import ResponsesLoader
from cxactions.imports.loaders.signals import SignalsLoader
from cxactions.imports.loaders.solutions import SolutionsLoader
from cxactions.imports.loaders.targets import TargetsLoader
from cxactions.imports.loaders.units import UnitsLoader

LOADERS: dict[str, type[Loader]] = {
    "units": UnitsLoader,
    "challenges": ChallengesLoader,
    "solutions": SolutionsLoader,
    "responses": ResponsesLoader,
    "operations": OperationsLoader,
    "adoptions": AdoptionsLoader,
    "signals": SignalsLoader,
    "targets": TargetsLoader,
}
assert set(LOADERS) == set(FORMATS)
