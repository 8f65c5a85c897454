"""A challenge's French name and description are searchable with the French analyser, and the
solutions that address it are found by it too."""

from __future__ import annotations

from cxactions.foundations.extensions import db as _db
from cxactions.search.service import SearchOptions, rebuild_index, search
from tests.factories import challenge, solution


def codes(query: str) -> list[str]:
    return [hit.id for hit in search(_db.session, query, SearchOptions(per_page=100)).results]


def test_french_names_and_descriptions_are_found(app, db):
    queue = challenge(
        "SPEED-QUEUE",
        "Long checkout queues",
        name_fr="Longues files d’attente en caisse",
        description_fr="Les clients patientent trop longtemps pour payer.",
    )
    solution("SOP-TILL", "Open a till at three", challenges=[queue])
    db.session.commit()
    rebuild_index()

    # French words in neither the English name nor the keywords: only the French text has them.
    assert "SPEED-QUEUE" in codes("longues caisses")
    assert "SPEED-QUEUE" in codes("patientent")
    # The English name still finds it, and a solution is found by its challenge's French name.
    assert "SPEED-QUEUE" in codes("checkout queues")
    assert "SOP-TILL" in codes("longues files")


def test_a_french_name_set_later_reaches_the_index(app, db):
    queue = challenge("SPEED-QUEUE", "Long checkout queues")
    db.session.commit()
    rebuild_index()
    assert codes("longues") == []
    queue.name_fr = "Longues files d’attente en caisse"
    db.session.commit()  # the index follows the commit
    assert "SPEED-QUEUE" in codes("longues")
