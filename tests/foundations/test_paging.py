"""Page numbers and sizes from query strings are bounded before they reach the database."""

from __future__ import annotations

import pytest

from cxactions.auth.models import Role
from cxactions.foundations.paging import MAX_PAGE, bounded_int, page_number
from tests.factories import solution


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 1),
        ("", 1),
        ("3", 3),
        ("0", 1),
        ("-7", 1),
        ("abc", 1),
        ("2.5", 1),
        ("9223372036854775807", MAX_PAGE),
        ("9" * 400, MAX_PAGE),
    ],
)
def test_page_numbers_are_whole_numbers_from_one_to_the_maximum(value, expected):
    args = {} if value is None else {"page": value}
    assert page_number(args) == expected


def test_sizes_keep_within_their_bounds():
    assert bounded_int("500", 20, 1, 100) == 100
    assert bounded_int("0", 20, 1, 100) == 1
    assert bounded_int("x", 20, 1, 100) == 20


def test_the_library_answers_a_page_beyond_the_end(db, client_as):
    solution("SOP-ONE", "Only solution")
    db.session.commit()
    client = client_as(Role.STAFF)
    for page in ("9223372036854775807", "-1", "1001", "nope"):
        response = client.get(f"/solutions?page={page}")
        assert response.status_code == 200, page
