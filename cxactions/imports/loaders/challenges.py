"""challenges.csv: the challenge tree, loaded by the shared tree loader; keywords are kept one
per line.
"""

from __future__ import annotations

import pandas as pd

from cxactions.imports.loaders.tree import TreeLoader
from cxactions.taxonomy.models import Challenge


class ChallengesLoader(TreeLoader):
    model = Challenge
    search_type = "challenge"
    key_column = "challenge_id"
    what = "challenge_id"
    columns = {
        "name": "name",
        "description": "description",
        "name_fr": "name_fr",
        "description_fr": "description_fr",
        "keywords": "keywords",
    }

    def values(self, rows: pd.DataFrame) -> dict[str, list]:
        values = super().values(rows)
        if "keywords" in values:
            # The model keeps one keyword per line.
            values["keywords"] = [
                "\n".join(words) if words else None for words in values["keywords"]
            ]
        return values
