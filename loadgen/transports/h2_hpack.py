"""HPACK that remembers: header blocks encoded and decoded once per table state.

HPACK in pure Python (the `hpack` package under `h2`) costs more per request
than the rest of a stream together: Huffman-decoding a response's headers,
encoding a request's. Yet a load test sends the same few header lists and
gets the same few answers. An encoded block is a function of the header
list and the compression table; a decoded list, of the block and the table.
So each side counts the changes of its table (`version`: an entry added, its
size changed) and keeps the result of an encoding or decoding that left the
table as it was, to give again for the same input while the table has not
changed since. A block that changed the table (a new entry indexed) is not
kept: the next identical one is decoded afresh, as it must be.
"""

from __future__ import annotations

from typing import Any, Final

import hpack
import hpack.hpack

# Distinct header lists (or blocks) kept per connection; past it, forget them all.
_KEPT: Final = 512


def _remembered_huffman() -> None:
    """Huffman-decode each distinct string once: a response's `date`, its
    `server`, repeat from answer to answer (the decoding is a pure function
    of the bytes, so remembering it changes nothing but its cost)."""
    module: Any = hpack.hpack  # its decode_huffman is imported there, not exported
    decode = module.decode_huffman
    if getattr(decode, "remembered", False):
        return
    kept: dict[bytes, bytes] = {}

    def remembered(data: bytes | bytearray | memoryview | None) -> bytes:
        key = bytes(data or b"")
        value = kept.get(key)
        if value is None:
            value = decode(key)
            if len(kept) >= _KEPT:
                kept.clear()
            kept[key] = value
        return value

    remembered.remembered = True  # type: ignore[attr-defined]
    module.decode_huffman = remembered


_remembered_huffman()


class _Counted:
    """A table's changes counted: `add` and the size setter bump `version`."""

    version: int

    def _watch(self, table: Any) -> None:
        self.version = 0
        add = table.add

        def counted_add(name: bytes, value: bytes) -> None:
            self.version += 1
            add(name, value)

        table.add = counted_add


class RememberingEncoder(hpack.Encoder, _Counted):
    def __init__(self) -> None:
        super().__init__()
        self._watch(self.header_table)
        self._kept: dict[tuple[Any, ...], tuple[int, bytes]] = {}

    @property
    def header_table_size(self) -> int:
        return int(self.header_table.maxsize)

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        self.version += 1
        hpack.Encoder.header_table_size.fset(self, value)  # type: ignore[attr-defined]

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        key = (tuple(headers), huffman)
        version = self.version
        kept = self._kept.get(key)
        if kept is not None and kept[0] == version and not self.header_table.resized:
            return kept[1]
        pending = self.header_table.resized  # a size update goes out with this block only
        block: bytes = super().encode(key[0], huffman)
        if self.version == version and not pending:
            if len(self._kept) >= _KEPT:
                self._kept.clear()
            self._kept[key] = (version, block)
        return block


class RememberingDecoder(hpack.Decoder, _Counted):
    def __init__(self) -> None:
        super().__init__()
        self._watch(self.header_table)
        self._kept: dict[bytes, tuple[int, Any]] = {}

    @property
    def header_table_size(self) -> int:
        return int(self.header_table.maxsize)

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        self.version += 1
        hpack.Decoder.header_table_size.fset(self, value)  # type: ignore[attr-defined]

    def decode(self, data: bytes, raw: bool = False) -> Any:
        key = bytes(data)
        version = self.version
        kept = self._kept.get(key)
        if kept is not None and kept[0] == version and raw:
            return kept[1]
        headers = super().decode(key, raw)
        if self.version == version and raw:
            if len(self._kept) >= _KEPT:
                self._kept.clear()
            self._kept[key] = (version, headers)
        return headers
