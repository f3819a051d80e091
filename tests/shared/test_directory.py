"""The directory as data: the import file format and the export document both sides speak."""

from __future__ import annotations

from importlib.resources import files

from doorstep_shared.directory import Directory, decode, directory_of, parse_rows, read_csv

HEADER = (
    "county_code,county_name,community_code,community_name,grid_code,grid_name,"
    "compound_code,compound_name,address,latitude,longitude\n"
)


def test_the_demo_file_parses_into_a_directory_that_round_trips_through_its_export() -> None:
    data = (files("doorstep_shared.directory") / "hexian.csv").read_bytes()
    rows, errors = parse_rows(read_csv(decode(data)))
    assert errors == []
    directory = directory_of(rows)
    assert (len(directory.counties), len(directory.communities), len(directory.compounds)) == (1, 14, 78)
    again = Directory.from_export(directory.to_export())
    assert again == directory and again.revision == directory.revision
    binjiang = directory.compound("binjiang")
    assert binjiang is not None and directory.grid(binjiang.grid) is not None
    assert directory.county_of(binjiang.community) == "hexian"


def test_gbk_files_decode_and_the_revision_follows_the_content() -> None:
    text = HEADER + "hanshan,含山县,huancheng,环城社区,huancheng-g1,第一网格,xinyuan,新苑,含山县新苑,31.73,118.10\n"
    rows, errors = parse_rows(read_csv(decode(text.encode("gbk"))))
    assert errors == [] and rows[0].compound is not None and rows[0].compound.name == "新苑"
    first = directory_of(rows)
    renamed, _ = parse_rows(read_csv(text.replace("新苑,含山", "新苑二期,含山")))
    assert directory_of(renamed).revision != first.revision


def test_bad_rows_name_their_line_and_field_and_conflicting_parents_are_refused() -> None:
    text = (
        HEADER
        + "hanshan,含山县,huancheng,环城社区,huancheng-g1,第一网格,xinyuan,新苑,,91,118\n"
        + "hanshan,含山县,huancheng,环城社区,huancheng-g1,第一网格,a b,名,,,\n"
        + "hanshan,含山县,huancheng,环城社区,huancheng-g1,第一网格,ok,好,,,\n"
        + "hanshan,含山县,huancheng,环城社区,huancheng-g2,第二网格,ok,好,,,\n"
    )
    rows, errors = parse_rows(read_csv(text))
    assert [(e.line, e.field, e.code) for e in errors] == [
        (2, "latitude", "out_of_range"),
        (3, "compound_code", "invalid_code"),
        (5, "compound_code", "conflicting_row"),
    ]
    assert [r.line for r in rows] == [4]
