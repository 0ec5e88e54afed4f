"""An upload's stored rows carried in its queue rows, so that the fold reads back only the rows around them.

The fold's largest cost was reading the new readings back (db/central/energy_summary.py FOLD_ROWS_SQL):
~1.2 s of PostgreSQL's time per million readings, rows the upload had in memory moments before. When an
upload's COPY stored every row of its payload, each of its rollup_dirty rows carries its part's rows in the
forms the fold reads (db/central/ingest/_rows.c carried_parts: per point its id, count, times, values and
qualities). A point whose claimed queue rows all carry it, without overlap between them, and whose queued
readings all follow the last one its rollups hold (db/central/rollups/stream.py held_lasts), is folded from
the carried rows and the stored rows around them: the window's rows before the first carried one (the tail
quarter and the usable reading before it) and after the last (up to the quarter of the next usable one).

Why that window is the one PostgreSQL would return: readings are written only by an upload
(db/central/ingest/batch.py), every upload queues its ranges, and a point's queue rows are claimed in id
order within its part; no folded reading lies at or after the first carried one. Rows of an upload that
committed after the claim but before the fold, and lie among the carried ones, are the one exception: that
upload's queue row is then still waiting, so queries read the point raw (db/central/energy_read.py: a
queued reading at or before the newest folded one) until its fold, which finds readings at or before the
folded ones and rebuilds those ranges from raw rows, as for any late upload
(tests/db/central/rollups/test_rollup_carried.py holds both ways of folding to the same rows).
"""

import struct
from dataclasses import dataclass
from datetime import datetime

from db.central.energy_fold import EPOCH, MICROSECOND, PG_EPOCH_US

try:
    from db.central.ingest import _rows as native_rows
except ImportError:  # not built: no rows are carried, the fold reads them back as before
    native_rows = None

_HEAD = struct.Struct(">qi")  # a point's id and row count
_STAMP = struct.Struct(">q")  # timestamptz_send: microseconds since 2000-01-01


@dataclass(frozen=True, slots=True)
class Carried:
    """A point's carried rows, in time order: first and last time (µs since 1970) and their binary forms."""

    first_us: int
    last_us: int
    stamps: bytes
    values: bytes
    qualities: bytes

    def skip(self) -> tuple[datetime, datetime]:
        """[first, last + 1 µs): the stored rows these are, which a fold need not read."""
        return EPOCH + self.first_us * MICROSECOND, EPOCH + (self.last_us + 1) * MICROSECOND


def carried_parts(payload: bytes | None, parts: int) -> dict[int, bytes]:
    """Each rollup part's rows of a binary COPY payload of readings (all stored), or {} when not carried."""
    if payload is None or native_rows is None:
        return {}
    return native_rows.carried_parts(payload, parts)


def _pieces(blob: bytes):
    """(point id, first µs, last µs, times, values, qualities) of each point in one carried blob."""
    at, end = 0, len(blob)
    while at < end:
        pid, n = _HEAD.unpack_from(blob, at)
        at += _HEAD.size
        stamps, values = blob[at : at + 8 * n], blob[at + 8 * n : at + 16 * n]
        qualities = blob[at + 16 * n : at + 18 * n]
        first, last = _STAMP.unpack_from(stamps, 0)[0], _STAMP.unpack_from(stamps, 8 * (n - 1))[0]
        yield pid, first + PG_EPOCH_US, last + PG_EPOCH_US, stamps, values, qualities
        at += 18 * n


def collect(claimed: list[tuple[list, bytes | None]]) -> dict[int, Carried]:
    """The points every claimed queue row (spans, carried blob) carries, with their rows joined in time
    order; a point that some row queues without carrying it, or whose carried rows overlap, is left out."""
    pieces: dict[int, list] = {}
    missing: set[int] = set()
    for spans, blob in claimed:
        held = set()
        if blob is not None:
            for pid, *piece in _pieces(blob):
                pieces.setdefault(pid, []).append(piece)
                held.add(pid)
        missing.update(pid for _, _, pids in spans for pid in pids if pid not in held)
    carried = {}
    for pid, found in pieces.items():
        if pid in missing:
            continue
        found.sort(key=lambda piece: piece[0])
        if any(later[0] <= earlier[1] for earlier, later in zip(found, found[1:], strict=False)):
            continue  # overlapping uploads: the fold reads what is stored
        if len(found) == 1:
            first, last, stamps, values, qualities = found[0]
        else:
            first, last = found[0][0], found[-1][1]
            stamps, values, qualities = (b"".join(piece[k] for piece in found) for k in (2, 3, 4))
        carried[pid] = Carried(first, last, stamps, values, qualities)
    return carried
