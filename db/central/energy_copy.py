"""Quarter rows as PostgreSQL's binary COPY format: energy_quarters written with no array parameter to encode.

The fold deletes a point's quarters before writing them again, so a COPY meets no conflict; it runs in the
fold's transaction like the INSERT it replaces. Floats are packed as their 8 bytes: stored bit for bit.
"""

import struct

from db.central.energy_fold import PG_EPOCH_US, Q_US

COLUMNS = (
    "point_id", "q", "whole", "count", "flagged", "usable", "vsum", "vmin", "vmax", "first_value",
    "last_value", "consumption", "span_seconds", "longest",
)  # fmt: skip
HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)


def _row_struct(values: bool, consumption: bool) -> struct.Struct:
    # field count, then each field's length and bytes; a NULL is length -1 with no bytes
    return struct.Struct(
        ">h iq iq i? ii ii ii id"
        + (" id" * 4 if values else " i" * 4)
        + (" id" if consumption else " i")
        + " id id"
    )


# by (has usable readings, has consumption): vmin, vmax, first and last are NULL together
_ROWS = {(v, c): _row_struct(v, c) for v in (False, True) for c in (False, True)}


def pack_quarters(out: bytearray, pid: int, quarters) -> None:
    """Append the rows of one point's quarters ((k, whole, row) of energy_fold.quarter_rows) to out."""
    for k, whole, (
        count,
        flagged,
        usable,
        vsum,
        vmin,
        vmax,
        first,
        last,
        consumption,
        span,
        longest,
    ) in quarters:
        q = k * Q_US - PG_EPOCH_US
        head = (14, 8, pid, 8, q, 1, whole, 4, count, 4, flagged, 4, usable, 8, vsum)
        if first is None:
            values = (-1, -1, -1, -1)
        else:
            values = (8, vmin, 8, vmax, 8, first, 8, last)
        tail = (-1,) if consumption is None else (8, consumption)
        out += _ROWS[(first is not None, consumption is not None)].pack(
            *head, *values, *tail, 8, span, 8, longest
        )


def copy_payload(rows: bytearray) -> memoryview:
    """The whole COPY stream around the packed rows (a buffer: asyncpg would take bytes for a file path)."""
    return memoryview(b"".join((HEADER, rows, TRAILER)))
