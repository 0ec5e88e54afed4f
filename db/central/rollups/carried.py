"""An upload's stored rows carried in its queue rows, so that the fold reads back only the rows around them.

The fold's largest cost was reading the new readings back (db/central/energy_summary.py FOLD_ROWS_SQL):
~1.2 s of PostgreSQL's time per million readings, rows the upload had in memory moments before. When an
upload's COPY stored every row of its payload, each of its rollup_dirty rows carries its part's rows in the
forms the fold reads (db/central/ingest/_rows.c carried_parts: per point its id, count, times, values and
qualities). A point whose claimed queue rows all carry it, without overlap between them, and whose queued
readings all follow the newest one its summary's folds claimed (db/central/energy_summary.py _after_folded),
is folded from
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

from dataclasses import dataclass
from datetime import datetime

from db.central.energy_fold import EPOCH, MICROSECOND

try:
    from db.central.ingest import _rows as native_rows
except ImportError:  # not built: no rows are carried, the fold reads them back as before
    native_rows = None


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


def collect(claimed: list[tuple[list, bytes | None]]) -> dict[int, Carried]:
    """The points every claimed queue row (spans, carried blob) carries, with their rows joined in time
    order (_rows.c carried_points); a point that some row queues without carrying it, or whose carried rows
    overlap, is left out."""
    if native_rows is None:  # no row was carried either (carried_parts)
        return {}
    found, held = native_rows.carried_points([blob for _, blob in claimed])
    missing = {
        pid
        for (spans, _), carried in zip(claimed, held, strict=True)
        for _, _, pids in spans
        for pid in pids
        if pid not in carried
    }
    return {pid: Carried(*rows) for pid, rows in found.items() if pid not in missing}
