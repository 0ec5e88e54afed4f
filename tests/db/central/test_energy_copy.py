"""The quarter rows' binary COPY stream holds every field, NULLs as length -1, floats bit for bit."""

import struct

from db.central.energy_copy import COLUMNS, HEADER, TRAILER, copy_payload, pack_quarters
from db.central.energy_fold import PG_EPOCH_US, Q_US


def fields(payload: bytes) -> list[list[bytes | None]]:
    """The rows of a binary COPY stream as raw fields."""
    assert payload.startswith(HEADER) and payload.endswith(TRAILER)
    rows, at = [], len(HEADER)
    while at < len(payload) - len(TRAILER):
        (count,), at = struct.unpack_from(">h", payload, at), at + 2
        row = []
        for _ in range(count):
            (size,), at = struct.unpack_from(">i", payload, at), at + 4
            row.append(None if size == -1 else payload[at : at + size])
            at += max(size, 0)
        rows.append(row)
    return rows


def test_rows_with_and_without_values_and_consumption():
    full = [3, 1, 2, 0.1 + 0.2, -1.5, 7.25, 1.0, 2.0, 1e-300, 899.999999, 600.0]
    empty = [1, 1, 0, 0.0, None, None, None, None, None, 0.0, 0.0]
    packed = bytearray()
    pack_quarters(packed, 42, [(1_900_000, True, full), (1_900_001, False, empty)])
    got = fields(bytes(copy_payload(packed)))
    assert [len(row) for row in got] == [len(COLUMNS)] * 2
    first, second = got
    assert struct.unpack(">q", first[0])[0] == 42
    assert struct.unpack(">q", first[1])[0] == 1_900_000 * Q_US - PG_EPOCH_US
    assert first[2] == b"\x01" and second[2] == b"\x00"
    assert [struct.unpack(">i", f)[0] for f in first[3:6]] == full[:3]
    assert [struct.unpack(">d", f)[0] for f in first[6:]] == full[3:]
    assert second[7:12] == [None] * 5
    assert [struct.unpack(">d", f)[0] for f in (second[6], *second[12:])] == [0.0, 0.0, 0.0]
