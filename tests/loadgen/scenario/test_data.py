"""`--data FILE`: CSV and JSON Lines rows, in order or drawn, split between shards."""

import collections
import random

import pytest

from loadgen.scenario.data import NO_DATA, Data, DataFile, load_data


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_rows_are_dicts_of_the_header_s_names(tmp_path):
    path = write(tmp_path, "users.csv", 'name,password\nann,"se,cret"\n\nbob,hunter2\n')
    data = load_data(path)
    assert data.path == str(path)
    assert data.rows == (
        {"name": "ann", "password": "se,cret"},
        {"name": "bob", "password": "hunter2"},
    )


def test_a_spreadsheet_s_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffid,city\r\n1,Zürich\r\n".encode())
    assert load_data(path).rows == ({"id": "1", "city": "Zürich"},)


@pytest.mark.parametrize("name", ["rows.jsonl", "rows.ndjson", "rows.json", "rows.txt"])
def test_json_lines_rows_are_their_objects(tmp_path, name):
    path = write(tmp_path, name, '{"a": 1, "b": [2]}\n\n{"a": "x"}\n')
    assert load_data(path).rows == ({"a": 1, "b": [2]}, {"a": "x"})


def test_next_walks_the_rows_in_order_and_starts_again():
    data = DataFile("d.csv", tuple({"i": i} for i in range(3))).view()
    assert [data.next()["i"] for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    assert len(data) == 3


def test_shards_take_every_nth_row_so_that_none_sends_another_s():
    rows = tuple({"i": i} for i in range(10))
    shards = [DataFile("d.csv", rows).view((i, 3), seed=1) for i in range(3)]
    assert [[r["i"] for r in s.rows] for s in shards] == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    # Whatever each draws, it draws from its own rows only.
    for i, shard in enumerate(shards):
        assert {shard.random()["i"] % 3 for _ in range(50)} == {i}


def test_a_shard_left_without_rows_is_refused():
    with pytest.raises(ValueError, match="has 2 rows: too few for 3 shards"):
        DataFile("d.csv", ({"i": 0}, {"i": 1})).view((2, 3))


def test_random_is_uniform_and_repeatable_with_the_seed():
    file = DataFile("d.csv", tuple({"i": i} for i in range(4)))
    draws = [file.view(seed=7).random()["i"] for _ in range(3)]
    assert len(set(draws)) == 1  # a new view with the same seed draws the same
    data = file.view(seed=7)
    counts = collections.Counter(data.random()["i"] for _ in range(40_000))
    assert all(n / 40_000 == pytest.approx(0.25, abs=0.01) for n in counts.values())
    other = file.view(seed=8)
    assert [data.random() for _ in range(20)] != [other.random() for _ in range(20)]
    # Shards of one seed draw different streams.
    a, b = file.view((0, 2), seed=7), file.view((1, 2), seed=7)
    assert [a.rows.index(a.random()) for _ in range(20)] != [
        b.rows.index(b.random()) for _ in range(20)
    ]


def test_without_data_asking_for_a_row_says_how_to_give_one():
    for ask in (NO_DATA.next, NO_DATA.random):
        with pytest.raises(RuntimeError, match="run with --data FILE"):
            ask()
    assert len(Data((), random.Random(0))) == 0


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("empty.csv", "", "has no rows"),
        ("header-only.csv", "a,b\n", "has no rows"),
        ("blank.jsonl", "\n\n", "has no rows"),
        ("ragged.csv", "a,b\n1,2\n3\n", "line 3: 1 fields, where the header has 2"),
        ("twice.csv", "a,a\n1,2\n", "line 1: the header row names 'a' twice"),
        ("unnamed.csv", "a,,b\n1,2,3\n", "line 1: the header row has an empty column name"),
        ("bad.jsonl", '{"a": 1}\n{"a": \n', "line 2: not JSON"),
        ("scalar.jsonl", '{"a": 1}\n3\n', "line 2: a JSON Lines row is an object"),
        ("array.json", '[\n  {"a": 1}\n]\n', "line 1: JSON Lines holds one object per line"),
    ],
)
def test_a_file_that_cannot_be_used_is_one_line_naming_it(tmp_path, name, text, says):
    path = write(tmp_path, name, text)
    with pytest.raises(ValueError) as info:
        load_data(path)
    message = str(info.value)
    assert message.startswith(str(path)) and says in message and "\n" not in message


def test_a_missing_a_directory_or_a_binary_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.csv: no such file"):
        load_data(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="is a directory"):
        load_data(tmp_path)
    (tmp_path / "bin.csv").write_bytes(b"a,b\n1,2\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"bin\.csv line 3: not UTF-8 text"):
        load_data(tmp_path / "bin.csv")
