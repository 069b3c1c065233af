"""Rows for a scenario's tasks: `--data FILE`, a CSV file or JSON Lines, read once.

A task reaches them as `self.data`:

    class Login(Scenario):
        @task
        def login(self) -> Request:
            user = self.data.next()  # {"name": "ann", "password": "..."}
            return Request.json("POST", "/login", user)

- `next()` gives the rows in the file's order, starting again after the last.
- `random()` draws one uniformly from the run's seeded stream: the same
  draws for the same `--seed`.

A run split into shards splits its rows the way it splits its arrivals
(see `core/pacer.py`): shard i of N takes rows i, i + N, i + 2N, … So no two
shards send the same row, and with constant arrivals and as many rows as
arrivals the shards together send every row once, as one process would.
Each shard draws `random()` from its own rows, with a stream of its own.

Rows are dicts: a CSV row maps the header's names to the row's strings; a
JSON Lines row is the object on its line. A row is shared by every task that
gets it: copy it (`dict(row)`) before changing it.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Row = dict[str, Any]

# Suffixes that say a file is JSON Lines; any other is CSV, unless it starts with `{`.
_JSON_LINES = (".jsonl", ".ndjson", ".json")


class Data:
    """The rows one run (or one shard of it) draws from."""

    def __init__(self, rows: Sequence[Row], rng: random.Random, source: str = "") -> None:
        self.rows = tuple(rows)
        self.source = source
        self._rng = rng
        self._next = 0

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"<Data {self.source or 'rows'}: {len(self.rows)} rows>"

    def next(self) -> Row:
        """The next row in the file's order; after the last, the first again."""
        rows = self.rows
        if not rows:
            raise _no_rows()
        row = rows[self._next]
        self._next = (self._next + 1) % len(rows)
        return row

    def random(self) -> Row:
        """A row drawn uniformly, from the run's seeded stream."""
        rows = self.rows
        if not rows:
            raise _no_rows()
        return rows[int(self._rng.random() * len(rows))]


def _no_rows() -> RuntimeError:
    return RuntimeError(
        "self.data has no rows: run with --data FILE (a CSV file with a header row, or JSON Lines)"
    )


# What `self.data` is when the run was given no --data file: asking it for a row says so.
NO_DATA = Data((), random.Random(0))


@dataclass(frozen=True)
class DataFile:
    """A data file's rows, as read (`load_data`); `view` gives a run or shard its share."""

    path: str
    rows: tuple[Row, ...]

    def view(self, shard: tuple[int, int] = (0, 1), seed: int | None = None) -> Data:
        """Shard `index` of `count`'s rows (i, i + count, …), drawn at random from a
        stream of `seed` and the shard's index (unseeded without a seed)."""
        index, count = shard
        rows = self.rows[index::count]
        if not rows:
            raise ValueError(self.too_few(count))
        # The seed keeps the name of the module this was (loadgen/data.py), so that a
        # seeded run draws the rows it always drew.
        rng = random.Random() if seed is None else random.Random(f"loadgen.data:{seed}:{index}")
        return Data(rows, rng, self.path)

    def too_few(self, count: int) -> str:
        """Said when `count` shards would leave one with no row."""
        return (
            f"{self.path} has {len(self.rows)} rows: too few for {count} shards "
            "(each takes its own rows, and needs one at least)"
        )


def load_data(path: str | Path) -> DataFile:
    """Read a CSV (with a header row) or JSON Lines file; a ValueError says, in one
    line naming the file (and the line), why it cannot be used."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is not data
    except FileNotFoundError:
        raise ValueError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{name} is a directory, not a file") from None
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        raise ValueError(f"{name} line {line}: not UTF-8 text") from None
    except OSError as e:
        raise ValueError(f"{name}: {e.strerror or e}") from None
    rows = _json_lines(name, text) if _is_json_lines(name, text) else _csv_rows(name, text)
    if not rows:
        raise ValueError(f"{name} has no rows")
    return DataFile(name, tuple(rows))


def _is_json_lines(name: str, text: str) -> bool:
    if name.lower().endswith(_JSON_LINES):
        return True
    return not name.lower().endswith(".csv") and text.lstrip().startswith("{")


def _json_lines(name: str, text: str) -> list[Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            if line.lstrip().startswith("["):
                raise ValueError(
                    f"{name} line {number}: JSON Lines holds one object per line, not a JSON array"
                ) from None
            raise ValueError(f"{name} line {number}: not JSON ({e})") from None
        if not isinstance(row, dict):
            raise ValueError(
                f"{name} line {number}: a JSON Lines row is an object ({{...}}), "
                f"not {type(row).__name__}"
            )
        rows.append(row)
    return rows


def _csv_rows(name: str, text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header: list[str] | None = None
        rows: list[Row] = []
        for fields in reader:
            if not fields or fields == [""]:  # a blank line
                continue
            if header is None:
                header = _header(name, reader.line_num, fields)
                continue
            if len(fields) != len(header):
                raise ValueError(
                    f"{name} line {reader.line_num}: {len(fields)} fields, "
                    f"where the header has {len(header)}"
                )
            rows.append(dict(zip(header, fields, strict=True)))
    except csv.Error as e:
        raise ValueError(f"{name} line {reader.line_num}: not CSV ({e})") from None
    return rows


def _header(name: str, line: int, fields: list[str]) -> list[str]:
    names = [f.strip() for f in fields]
    if "" in names:
        raise ValueError(f"{name} line {line}: the header row has an empty column name")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{name} line {line}: the header row names {twice[0]!r} twice")
    return names
