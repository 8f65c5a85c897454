"""Reading import files: encodings, dialects, tokenising and validation (no app, no database)."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxactions.imports.encodings import detect_encoding
from cxactions.imports.reader import MAX_FIELD_CHARS, ImportFile
from cxactions.imports.results import ErrorLog, ParseError
from cxactions.imports.values import parse_datetimes, parse_numbers
from tests.paths import DATA as TEST_DATA

DATA = TEST_DATA / "imports"


def write(tmp_path: Path, content: str | bytes, name: str = "file.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def read(path: Path, kind: str, chunk_rows: int = 50_000):
    """All valid rows, every error (file-level and per row) and the opened file."""
    source = ImportFile.open(path, kind, chunk_rows=chunk_rows)
    frames, errors = [], list(source.errors)
    for chunk in source.chunks():
        frames.append(chunk.rows)
        errors.extend(chunk.errors)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return rows, errors, source


def messages(errors: list[ParseError]) -> list[tuple[int, str, str]]:
    return [(error.line, error.column, error.message) for error in errors]


# --------------------------------------------------------------------------- good files


def test_responses_fixture_keeps_comments_lines_and_times_as_written():
    rows, errors, source = read(DATA / "responses.csv", "responses")
    assert errors == []
    assert source.extra_columns == ["wait_time_rating", "staff_rating"]
    assert rows["line"].tolist() == [2, 3, 4, 7, 8]  # R-0003's comment spans lines 4-6
    assert rows["response_id"].tolist() == ["R-0001", "R-0002", "R-0003", "R-0004", "R-0005"]
    assert rows.loc[2, "comment"] == (
        'The queue was "endless".\nOnly one till open on a Saturday,\nnobody to ask.'
    )
    assert pd.isna(rows.loc[1, "comment"])
    # A date-time counts on the date written in it; the offset shifts nothing.
    assert str(rows.loc[2, "responded_on"].date()) == "2024-03-05"
    assert str(rows.loc[2, "responded_at"]) == "2024-03-05 18:40:12"
    assert str(rows.loc[4, "responded_at"]) == "2024-03-10 23:59:59"
    assert pd.isna(rows.loc[1, "responded_at"])  # a bare date has no time
    assert rows["overall"].tolist() == [8.0, 6.5, 3.0, 7.0, 9.0]
    assert np.isnan(rows.loc[1, "staff_rating"]) and np.isnan(rows.loc[4, "wait_time_rating"])


def test_french_export_with_bom_crlf_semicolons_and_decimal_commas():
    rows, errors, source = read(DATA / "responses_fr.csv", "responses")
    assert errors == []
    assert source.french and source.delimiter == ";"
    assert any("French" in notice for notice in source.notices)
    assert source.columns[0] == "response_id"  # the BOM is not part of the first name
    assert rows["overall"].tolist() == [7.5, 4.0, 8.0]
    assert rows["staff_rating"].tolist()[0] == 9.5
    assert [str(day.date()) for day in rows["responded_on"]] == [
        "2024-03-04",
        "2024-03-05",
        "2024-03-11",
    ]
    assert str(rows.loc[0, "responded_at"]) == "2024-03-04 09:15:00"
    assert str(rows.loc[2, "responded_at"]) == "2024-03-11 18:40:12"
    assert rows.loc[1, "comment"] == "Attente trop longue ; une seule caisse\nouverte"
    assert rows["line"].tolist() == [2, 3, 5]


def test_bom_and_crlf_accepted_in_the_comma_format(tmp_path):
    path = write(tmp_path, codecs.BOM_UTF8 + b"unit_id,name\r\nS1,Store one\r\nS2,Store two\r\n")
    rows, errors, source = read(path, "units")
    assert errors == [] and not source.french
    assert rows["unit_id"].tolist() == ["S1", "S2"]
    assert rows["name"].tolist() == ["Store one", "Store two"]


def test_excel_sep_line_names_the_separator(tmp_path):
    path = write(tmp_path, "sep=;\nunit_id;name\nS1;Store one\n")
    rows, errors, _ = read(path, "units")
    assert errors == []
    assert rows["line"].tolist() == [3]


def test_windows_1252_is_decoded_when_certain_with_a_notice():
    rows, errors, source = read(DATA / "units_cp1252.csv", "units")
    assert errors == []
    assert source.encoding == "cp1252"
    assert "Windows-1252" in source.notices[0] and "CSV UTF-8" in source.notices[0]
    assert rows["name"].tolist() == ["Région Nord", "Orléans – Centre « Gare »"]


def test_trailing_empty_rows_of_a_spreadsheet_are_ignored(tmp_path):
    path = write(tmp_path, "unit_id,name\nS1,Store one\n,\n\n,\n")
    rows, errors, source = read(path, "units")
    assert errors == [] and len(rows) == 1 and source.rows_read == 1


def test_chunks_stay_bounded_and_keep_physical_lines(tmp_path):
    body = "".join(
        f'R{i},S1,2024-01-0{1 + i % 9},{i % 10},"line one\nline two"\n' for i in range(7)
    )
    path = write(tmp_path, "response_id,unit_id,responded_at,overall,comment\n" + body)
    source = ImportFile.open(path, "responses", chunk_rows=3)
    chunks = list(source.chunks())
    assert [len(chunk.rows) for chunk in chunks] == [3, 3, 1]
    lines = [line for chunk in chunks for line in chunk.rows["line"]]
    assert lines == [2, 4, 6, 8, 10, 12, 14]


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("content", "line", "expected"),
    [
        (b"unit_id,name\nS1,caf\x81\n", 2, "byte 0x81 would be undefined in Windows-1252"),
        (b"unit_id,name\nS1,\xd0\x9c\xd0\xbe\nS2,caf\xe9\n", 3, "mixes two encodings"),
        (b"unit_id,name\nS1,caf\xe9\nS2,Caf\xc3\xa9\n", 3, "mixes two encodings"),
        (b"unit_id,name\nS1,\x8a\x9a\x8e\n", 2, "would be 'Š' in Windows-1252"),
        (codecs.BOM_UTF16_LE + "unit_id,name\n".encode("utf-16-le"), 1, "UTF-16"),
        (b"unit_id,name\nS1,a\x00b\n", 2, "NUL"),
        (b"PK\x03\x04rest of a zip", 1, "Excel workbook (.xlsx)"),
    ],
)
def test_unreadable_encodings_are_refused_with_how_to_resave(tmp_path, content, line, expected):
    path = write(tmp_path, content)
    verdict = detect_encoding(path)
    assert verdict.encoding is None
    assert verdict.error.line == line
    assert expected in verdict.error.message
    assert "CSV UTF-8" in verdict.error.message or "binary" in verdict.error.message
    _, errors, _ = read(path, "units")
    assert errors == [verdict.error]


def test_utf8_check_streams_in_blocks(tmp_path, monkeypatch):
    from cxactions.imports import encodings

    monkeypatch.setattr(encodings, "ENCODING_BLOCK_BYTES", 64)
    lines = ["unit_id,name"] + [f"S{i},Magasin n°{i} à Orléans" for i in range(50)]
    path = write(tmp_path, ("\n".join(lines) + "\nS99,caf").encode() + b"\xe9\n")
    verdict = detect_encoding(path)
    assert verdict.error.line == 52
    assert "mixes two encodings" in verdict.error.message


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", (1, "", "the file is empty (no header line)")),
        ("\ufeff", (1, "", "the file is empty (no header line)")),
        ("\nunit_id,name\n", (1, "", "the first line is blank: the header must be on line 1")),
        ("unit_id,name\n", (1, "", "the file has a header but no data rows")),
        ("unit_id\nS1\n", (1, "name", "required column is missing")),
        (
            "unit_id,name,parent\nS1,A,\n",
            (
                1,
                "parent",
                "unknown column (did you mean 'parent_id'? expected: unit_id, name, "
                "parent_id, kind)",
            ),
        ),  # fmt: skip
        ("unit_id,name,unit_id\nS1,A,S1\n", (1, "unit_id", "duplicate column (columns 1 and 3)")),
        (
            "unit_id,name,\nS1,A,\n",
            (
                1,
                "column 3",
                "the column has no name (a trailing separator? delete the empty column)",
            ),
        ),
        (
            "unit_id\tname\nS1\tA\n",
            (1, "", "the header is tab-separated; save the file as 'CSV UTF-8 (Comma delimited)'"),
        ),
    ],
)
def test_header_problems_are_precise(tmp_path, content, expected):
    _, errors, _ = read(write(tmp_path, content), "units")
    assert expected in messages(errors)


def test_responses_accept_any_extra_column_as_a_driver_but_want_clean_names(tmp_path):
    path = write(tmp_path, "response_id,unit_id,responded_at,overall,Wait time\n")
    _, errors, _ = read(path, "responses")
    assert errors[0].column == "wait time"
    assert "lower-case letters, digits and underscores" in errors[0].message


def test_wrong_field_count_names_the_likely_cause(tmp_path):
    path = write(
        tmp_path,
        "response_id,unit_id,responded_at,overall,comment\n"
        "R1,S1,2024-01-02,7,Fine\n"
        "R2,S1,2024-01-02,7,Slow, rude, expensive\n"
        "R3,S1,2024-01-02\n",
    )
    rows, errors, source = read(path, "responses")
    assert messages(errors) == [
        (3, "", "expected 5 fields, found 7: an unquoted comma in a comment? Put text holding a "
         "comma in double quotes"),
        (4, "", "expected 5 fields, found 3: a missing comma or a cut-off line?"),
    ]  # fmt: skip
    assert rows["response_id"].tolist() == ["R1"]
    assert source.rows_read == 3


def test_a_stray_quote_that_swallows_the_rest_of_the_file_is_reported_where_it_opens(tmp_path):
    path = write(
        tmp_path,
        "response_id,unit_id,responded_at,overall,comment\n"
        "R1,S1,2024-01-02,7,fine\n"
        'R2,S1,2024-01-02,7,"the quote never closes\n'
        "R3,S1,2024-01-02,7,fine\n"
        "R4,S1,2024-01-02,7,fine\n",
    )
    _, errors, _ = read(path, "responses")
    assert messages(errors) == [
        (3, "", "a quote opened on this line never closes: lines 3-5 (the rest of the file) "
         "were read as one field"),
    ]  # fmt: skip


def test_an_oversized_field_is_reported_and_reading_stops(tmp_path):
    huge = "x" * (MAX_FIELD_CHARS + 10)
    path = write(tmp_path, f'unit_id,name\nS1,ok\nS2,"{huge}"\nS3,ok\n')
    _, errors, _ = read(path, "units")
    assert len(errors) == 1 and errors[0].line == 3
    assert f"longer than {MAX_FIELD_CHARS:,} characters" in errors[0].message


def test_a_quote_closing_mid_field_is_local_and_reading_goes_on(tmp_path):
    path = write(tmp_path, 'unit_id,name\nS1,"Store" one\nS2,Store two\n')
    rows, errors, _ = read(path, "units")
    assert errors[0].line == 2 and "written twice" in errors[0].message
    assert rows["unit_id"].tolist() == ["S2"]


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("text", "french", "value"),
    [("7.5", False, 7.5), ("-3", False, -3.0), ("+.5", False, 0.5), (" 8 ", False, 8.0),
     ("1e3", False, 1000.0), ("7,5", True, 7.5), ("7.5", True, 7.5)],
)  # fmt: skip
def test_numbers_accepted(text, french, value):
    numbers, problems = parse_numbers(np.array([text], dtype=object), french)
    assert problems == {} and numbers[0] == value


@pytest.mark.parametrize("text", ["abc", "nan", "NaN", "inf", "-Infinity", "1e", "7,5", "1_000",
                                  "0x10", "1.2.3", "."])  # fmt: skip
def test_numbers_rejected(text):
    _, problems = parse_numbers(np.array([text], dtype=object), french=False)
    assert problems == {0: f"not a number: '{text}'"}


def test_numbers_on_repeated_values_report_every_bad_row():
    values = np.array(["7", "x", "8"] * 100, dtype=object)
    numbers, problems = parse_numbers(values)
    assert sorted(problems) == list(range(1, 300, 3))
    assert numbers[0] == 7.0 and np.isnan(numbers[1])


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("2024-02-29", "2024-02-29T00:00:00"),
        ("2024-03-05T18:40", "2024-03-05T18:40:00"),
        ("2024-03-05 18:40:12.250", "2024-03-05T18:40:12.250000"),
        ("2024-03-05T23:30:00Z", "2024-03-05T23:30:00"),
        ("2024-03-05T23:30:00-05:00", "2024-03-05T23:30:00"),
    ],
)
def test_dates_and_date_times_are_kept_as_written(text, written):
    instants, has_time, problems = parse_datetimes(np.array([text], dtype=object))
    assert problems == {}
    assert str(instants[0]).startswith(written)
    assert has_time[0] == (len(text) > 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-02-30", "impossible date: '2024-02-30'"),
        ("2023-13-01", "impossible date: '2023-13-01'"),
        ("2024-03-05T25:00", "impossible time: '2024-03-05T25:00'"),
        ("2024-01", "not a date (ISO 8601: YYYY-MM-DD, optionally with a time): '2024-01'"),
        ("05/03/2024", "not a date (ISO 8601: YYYY-MM-DD, optionally with a time): '05/03/2024'"),
        ("yesterday", "not a date (ISO 8601: YYYY-MM-DD, optionally with a time): 'yesterday'"),
    ],
)
def test_dates_are_strict(text, message):
    _, _, problems = parse_datetimes(np.array([text], dtype=object))
    assert problems == {0: message}


def test_french_dates(tmp_path):
    instants, has_time, problems = parse_datetimes(
        np.array(["05/03/2024", "5/3/2024 9h05", "31/02/2024"], dtype=object), french=True
    )
    assert str(instants[0]) == "2024-03-05T00:00:00.000000" and not has_time[0]
    assert str(instants[1]) == "2024-03-05T09:05:00.000000" and has_time[1]
    assert problems == {2: "impossible date: '31/02/2024'"}


def test_row_values_are_validated_with_their_column(tmp_path):
    path = write(
        tmp_path,
        "solution_id,title,kind,status,challenge_ids\n"
        "SOL-1,Mobile tills,SOP,,C1; C2 ;C1\n"
        "SOL-2,,training,approved,\n"
        "SOL-3,Help point,trainning,gone,\n"
        f"SOL-4,{'T' * 201},asset,draft,\n",
    )
    rows, errors, _ = read(path, "solutions")
    assert messages(errors) == [
        (3, "title", "required, but empty"),
        (4, "kind", "'trainning' is not one of training, sop, asset, other"),
        (4, "status", "'gone' is not one of draft, pending, approved, rejected, retired"),
        (5, "title", f"longer than 200 characters: '{'T' * 39}…'"),
    ]
    assert rows["kind"].tolist() == ["sop"]  # choices are case-insensitive
    assert rows["status"].tolist() == ["approved"]  # the default
    assert rows["challenge_ids"].tolist() == [("C1", "C2")]


def test_adopted_on_is_required_when_implemented(tmp_path):
    path = write(
        tmp_path,
        "unit_id,solution_id,adopted_on,status\n"
        "S1,SOL-1,,implemented\n"
        "S1,SOL-2,,planned\n"
        "S2,SOL-1,,\n",
    )
    rows, errors, _ = read(path, "adoptions")
    assert messages(errors) == [
        (2, "adopted_on", "required when status is implemented"),
        (4, "adopted_on", "required when status is implemented"),
    ]
    assert rows["solution_id"].tolist() == ["SOL-2"]


def test_duplicate_keys_name_the_first_line_across_chunks(tmp_path):
    path = write(
        tmp_path,
        "unit_id,name\nS1,One\nS2,Two\nS3,Three\nS1,One again\nS2,Two again\nS2,Two thrice\n",
    )
    rows, errors, _ = read(path, "units", chunk_rows=2)
    assert messages(errors) == [
        (5, "unit_id", "duplicate unit_id 'S1' (first on line 2)"),
        (6, "unit_id", "duplicate unit_id 'S2' (first on line 3)"),
        (7, "unit_id", "duplicate unit_id 'S2' (first on line 3)"),
    ]
    assert rows["unit_id"].tolist() == ["S1", "S2", "S3"]


def test_duplicate_composite_keys(tmp_path):
    path = write(
        tmp_path,
        "unit_id,date,metric,value\n"
        "S1,2024-01-01,wait_minutes,4\n"
        "S1,2024-01-01T08:00,wait_minutes,5\n"
        "S1,2024-01-02,wait_minutes,5\n",
    )
    _, errors, _ = read(path, "operations")
    assert messages(errors) == [
        (3, "unit_id", "duplicate unit_id, date, metric 'S1', 2024-01-01, 'wait_minutes' "
         "(first on line 2)"),
    ]  # fmt: skip


def test_error_log_keeps_the_first_errors_by_line_and_counts_all():
    log = ErrorLog(limit=3)
    for line in [50, 40, *range(100, 120), 2, 3]:
        log.add(ParseError(line, "x", "bad"))
    assert log.count == 24
    assert [error.line for error in log.first] == [2, 3, 40]
