"""HPACK that remembers: header blocks encoded and decoded once per table state.

HPACK in pure Python (the `hpack` package under `h2`) costs more per request
than the rest of a stream together: Huffman-decoding a response's headers,
encoding a request's. Yet a load test sends the same few header lists and
gets the same few answers. An encoded block is a function of the header
list and the compression table; a decoded list, of the block and the table.
So each side follows the state of its table (entries added, its size) and
keeps the result of an encoding or decoding that left the table as it was,
to give again for the same input while the table is in that state. A block
that changed the table (a new entry indexed) is not kept: the next identical
one is decoded afresh, as it must be.
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


class _Memory:
    """Results by input, each good while its compression table stays as it was.

    The table changes by an entry added (counted here, `add` wrapped) or by
    entries evicted (its count of entries falls; only an add makes it grow), so
    (adds, max size, entries) names its content exactly.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self.adds = 0
        self._kept: dict[Any, tuple[tuple[int, int, int], Any]] = {}
        add = table.add

        def counted_add(name: bytes, value: bytes) -> None:
            self.adds += 1
            add(name, value)

        table.add = counted_add

    def state(self) -> tuple[int, int, int]:
        return self.adds, self.table.maxsize, len(self.table.dynamic_entries)

    def recall(self, key: Any, state: tuple[int, int, int]) -> Any:
        """What `key` gave at `state`, None if not kept."""
        kept = self._kept.get(key)
        return kept[1] if kept is not None and kept[0] == state else None

    def keep(self, key: Any, state: tuple[int, int, int], value: Any) -> None:
        """`value` came of `key` at `state`: kept if that left the table as it was."""
        if self.state() == state:
            if len(self._kept) >= _KEPT:
                self._kept.clear()
            self._kept[key] = (state, value)


class RememberingEncoder(hpack.Encoder):
    def __init__(self) -> None:
        super().__init__()
        self.memory = _Memory(self.header_table)

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        key = (tuple(headers), huffman)
        if self.header_table.resized:  # a size update goes out with this block only
            return bytes(super().encode(key[0], huffman))
        state = self.memory.state()
        block = self.memory.recall(key, state)
        if block is None:
            block = super().encode(key[0], huffman)
            self.memory.keep(key, state, block)
        return bytes(block)


class RememberingDecoder(hpack.Decoder):
    def __init__(self) -> None:
        super().__init__()
        self.memory = _Memory(self.header_table)

    def decode(self, data: bytes, raw: bool = False) -> Any:
        if not raw:
            return super().decode(data, raw)
        key = bytes(data)
        state = self.memory.state()
        headers = self.memory.recall(key, state)
        if headers is None:
            headers = super().decode(key, raw)
            self.memory.keep(key, state, headers)
        return headers
