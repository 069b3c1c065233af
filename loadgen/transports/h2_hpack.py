"""HPACK (RFC 7541) for a client: a stateless encoder and a decoder that remembers.

The encoder keeps no table: each field goes as a static-table entry or a
literal *without indexing*, so a request's block is a function of its header
list alone and the HTTP/2 client (h2_wire.py) makes it once per distinct
request. Its first block on a connection, and the first after the server's
SETTINGS_HEADER_TABLE_SIZE, starts with a table size update to 0 (RFC 7541
§4.2): the server's decoder then keeps no table for us, whatever its limit.

The decoder keeps the dynamic table the server's encoder fills, as it must.
A load test gets the same few answers again and again, yet a server such as
nginx indexes fields of every answer (`date` changes each second), so a
decoded block cannot be given again for the same bytes. What can is kept:
each distinct block *parsed* once (its representations, strings
Huffman-decoded) and replayed against the table, which costs a lookup per
field. The static table and the Huffman decoder are the `hpack` package's,
used as data; its own `Decoder` is the reference the tests compare with.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from hpack.huffman_table import decode_huffman
from hpack.table import HeaderTable

Fields = list[tuple[bytes, bytes]]

STATIC: Final[tuple[tuple[bytes, bytes], ...]] = HeaderTable.STATIC_TABLE
_STATIC_COUNT: Final = len(STATIC)
# The table size our SETTINGS allow the server (the default: we never change it).
TABLE_SIZE: Final = 4096
# Distinct blocks (and strings) kept per decoder; past it, they are forgotten.
_KEPT: Final = 1024

# A parsed representation: (kind, index, name, value): an indexed field's
# index; for a literal, the index of its name in the dynamic table, 0 when
# `name` holds it.
_INDEXED, _LITERAL, _INDEXING = 0, 1, 2
_Op = tuple[int, int, bytes, bytes]


class CompressionError(Exception):
    """A header block that breaks HPACK (a connection error, COMPRESSION_ERROR)."""


# -- encoding ------------------------------------------------------------------
_FULL: Final = {entry: k + 1 for k, entry in reversed(list(enumerate(STATIC)))}
_NAMES: Final = {name: k + 1 for k, (name, _) in reversed(list(enumerate(STATIC)))}
SIZE_UPDATE_TO_0: Final = b"\x20"


def _integer(value: int, prefix_bits: int, first: int) -> bytes:
    """`value` as an HPACK integer (§5.1), its first byte's high bits `first`."""
    top = (1 << prefix_bits) - 1
    if value < top:
        return bytes((first | value,))
    out = bytearray((first | top,))
    value -= top
    while value >= 128:
        out.append((value & 127) | 128)
        value >>= 7
    out.append(value)
    return bytes(out)


def _string(data: bytes) -> bytes:
    return _integer(len(data), 7, 0) + data  # raw: Huffman would save bytes, not time


def encode(fields: Fields) -> bytes:
    """The header block of `fields`: static entries and literals, no table touched."""
    out = []
    for field in fields:
        full = _FULL.get(field)
        if full is not None:
            out.append(_integer(full, 7, 0x80))
            continue
        name, value = field
        named = _NAMES.get(name)
        if named is not None:  # literal without indexing, indexed name (§6.2.2)
            out.append(_integer(named, 4, 0) + _string(value))
        else:
            out.append(b"\x00" + _string(name) + _string(value))
    return b"".join(out)


# -- decoding ------------------------------------------------------------------
class _Parsed:
    """A block parsed: its table size updates, then either its fields and the
    entries it adds (a block that reads nothing of the dynamic table means the
    same whatever the table holds), or its representations to replay."""

    __slots__ = ("adds", "fields", "ops", "resizes")

    def __init__(self, resizes: list[int], ops: list[_Op]) -> None:
        self.resizes = resizes
        self.ops = ops
        self.fields: Fields | None = None
        self.adds: list[tuple[tuple[bytes, bytes], int]] = []
        if all(0 < index <= _STATIC_COUNT or (index == 0 and kind != _INDEXED)
               for kind, index, _, _ in ops):  # fmt: skip
            self.fields = []
            for kind, index, name, value in ops:
                field = STATIC[index - 1] if kind == _INDEXED else (name, value)
                self.fields.append(field)
                if kind == _INDEXING:
                    self.adds.append((field, len(field[0]) + len(field[1]) + 32))


class Decoder:
    """One connection's HPACK decoder: its dynamic table, and blocks parsed before."""

    __slots__ = ("_parsed", "_sizes", "_strings", "entries", "max_size", "size")

    def __init__(self) -> None:
        self.entries: deque[tuple[bytes, bytes]] = deque()  # newest first
        self._sizes: deque[int] = deque()  # each entry's size, alike
        self.size = 0
        self.max_size = TABLE_SIZE
        self._parsed: dict[bytes, _Parsed] = {}
        self._strings: dict[bytes, bytes] = {}

    def decode(self, block: bytes) -> Fields:
        """The header list of `block`; CompressionError if it breaks HPACK.

        A block that reads nothing of the dynamic table gives the same list
        each time while it is remembered: callers do not change it, and may
        remember what they make of it by its identity.
        """
        parsed = self._parsed.get(block)
        if parsed is None:
            parsed = self._parse(block)
            if len(self._parsed) >= _KEPT:
                self._parsed.clear()
            self._parsed[block] = parsed
        for max_size in parsed.resizes:
            self._resize(max_size)
        fields = parsed.fields
        if fields is None:
            return self._replay(parsed.ops)
        entries, sizes = self.entries, self._sizes
        for entry, size in parsed.adds:
            if size > self.max_size:
                self._add(entry, size)
                continue
            entries.appendleft(entry)
            sizes.appendleft(size)
            self.size += size
        # Once for all its entries: the oldest go, as they would one by one.
        if self.size > self.max_size:
            self._evict()
        return fields

    def _replay(self, ops: list[_Op]) -> Fields:
        fields = []
        for kind, index, name, value in ops:
            if kind == _INDEXED:
                fields.append(self._entry(index))
                continue
            if index:
                name = self._entry(index)[0]
            fields.append((name, value))
            if kind == _INDEXING:
                self._add((name, value), len(name) + len(value) + 32)
        return fields

    def _entry(self, index: int) -> tuple[bytes, bytes]:
        if 0 < index <= _STATIC_COUNT:
            return STATIC[index - 1]
        k = index - _STATIC_COUNT - 1
        if 0 <= k < len(self.entries):
            return self.entries[k]
        raise CompressionError(f"index {index} is in neither table")

    def _add(self, entry: tuple[bytes, bytes], size: int) -> None:
        if size > self.max_size:  # larger than the table: it empties it (§4.4)
            self.entries.clear()
            self._sizes.clear()
            self.size = 0
            return
        self.entries.appendleft(entry)
        self._sizes.appendleft(size)
        self.size += size
        self._evict()

    def _resize(self, max_size: int) -> None:
        self.max_size = max_size
        self._evict()

    def _evict(self) -> None:
        """The oldest entries out until the table fits its size."""
        while self.size > self.max_size:
            self.size -= self._sizes.pop()
            self.entries.pop()

    def _parse(self, block: bytes) -> _Parsed:
        """`block`'s representations, in order, their strings decoded (§6)."""
        resizes: list[int] = []
        ops: list[_Op] = []
        pos, end = 0, len(block)
        while pos < end:
            byte = block[pos]
            if byte & 0x80:  # indexed field (§6.1)
                index, pos = _read_integer(block, pos, 7)
                if index == 0:
                    raise CompressionError("index 0")
                ops.append((_INDEXED, index, b"", b""))
                continue
            if byte & 0x40:  # literal with incremental indexing (§6.2.1)
                kind, bits = _INDEXING, 6
            elif byte & 0x20:  # dynamic table size update (§6.3), first in a block
                size, pos = _read_integer(block, pos, 5)
                if ops:
                    raise CompressionError("a table size update after the first field")
                if size > TABLE_SIZE:
                    raise CompressionError(f"table size {size} above the {TABLE_SIZE} allowed")
                resizes.append(size)
                continue
            else:  # literal without indexing, or never indexed (§6.2.2, §6.2.3)
                kind, bits = _LITERAL, 4
            index, pos = _read_integer(block, pos, bits)
            name = b""
            if index == 0:
                name, pos = self._read_string(block, pos)
            elif index <= _STATIC_COUNT:
                name = STATIC[index - 1][0]
                index = 0  # its name known: a literal name from here on
            value, pos = self._read_string(block, pos)
            ops.append((kind, index, name, value))
        return _Parsed(resizes, ops)

    def _read_string(self, block: bytes, pos: int) -> tuple[bytes, int]:
        if pos >= len(block):
            raise CompressionError("a string cut short")
        huffman = block[pos] & 0x80
        length, pos = _read_integer(block, pos, 7)
        end = pos + length
        if end > len(block):
            raise CompressionError("a string cut short")
        data = block[pos:end]
        if not huffman:
            return data, end
        text = self._strings.get(data)
        if text is None:
            try:
                text = decode_huffman(data)
            except Exception as e:  # hpack's HPACKDecodingError
                raise CompressionError(str(e)) from None
            if len(self._strings) >= _KEPT:
                self._strings.clear()
            self._strings[data] = text
        return text, end


def _read_integer(block: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
    """The HPACK integer at `pos` (§5.1) and where what follows it starts."""
    top = (1 << prefix_bits) - 1
    value = block[pos] & top
    pos += 1
    if value < top:
        return value, pos
    shift = 0
    while True:
        if pos >= len(block) or shift > 28:
            raise CompressionError("an integer cut short or too large")
        byte = block[pos]
        pos += 1
        value += (byte & 127) << shift
        shift += 7
        if not byte & 128:
            return value, pos
