"""The reference data sets travel with the tests: a clone of the repository alone has them
(issue 11, item 16). Sources and licences: tests/data/README.md."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from tests import reference_data

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
README = (DATA / "README.md").read_text(encoding="utf-8")


def test_reference_files_are_read_from_tests_data_only(tmp_path, monkeypatch):
    # An outside folder named the old way is ignored: no fallback outside the repository.
    (tmp_path / "mpdta.csv").write_text("year,countyreal\n1999,1\n", encoding="utf-8")
    monkeypatch.setenv("CXACTIONS_REFERENCE_DATA", str(tmp_path))
    path = reference_data.reference_file("mpdta.csv")
    assert path == DATA / "mpdta.csv"
    frame = reference_data.load_mpdta()
    assert frame.shape == (2500, 6) and frame["countyreal"].nunique() == 500
    assert sorted(frame["year"].unique()) == [2003, 2004, 2005, 2006, 2007]


def test_mpdta_is_the_documented_copy():
    digest = hashlib.sha256((DATA / "mpdta.csv").read_bytes()).hexdigest()
    assert digest in README  # the README names the exact file it describes
    assert (DATA / "mpdta-published.md").is_file()


def test_every_reference_file_has_its_source_and_licence_written_down():
    for path in DATA.iterdir():
        if path.is_file() and path.name != "README.md":
            assert f"`{path.name}`" in README, f"{path.name} is not described in README.md"
    assert "GPL-2" in README and "Callaway" in README and "Rdatasets" in README
    assert isinstance(pd.read_csv(DATA / "swiss.csv"), pd.DataFrame)
