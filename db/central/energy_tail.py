"""A point's unfolded rows kept in its summary state, so that folding an on-time upload reads no raw row.

Every fold rewrites the quarters from the point's tail_start (the quarter of its newest usable reading) on,
and so read back the rows from there, the usable one before and the point's newest reading: with the
lookups of _BOUNDS that was half of PostgreSQL's time per fold round (docs/ingest.md, thirteenth pass).
The fold now keeps those rows in the state (`energy_summary_state.tail`: the usable reading before
tail_start, then every row from tail_start to the newest one its folds claimed, in the window's binary
forms). The next fold of a point whose claimed rows are all carried (db/central/rollups/carried.py) and all
follow that newest row takes its window from the two (`extend`), with no lookup and no read: after an
on-time upload, and round after round through a backlog, whose later uploads' rows no fold reads before it
claims them (db/central/energy_summary.py).

Why the kept rows are the point's rows when they are used: a fold writes them from one window it read
(one statement's snapshot) or made this way, holding every row of the point from the one before tail_start
to the newest claimed (`keep` is given nothing else), and rows are written only by uploads, which queue their
ranges. A row stored since among the kept ones, or between them and the carried ones, belongs to an upload
whose queue row is either claimed in the same round (then its rows are carried with the others, and the
first carried row does not follow the newest kept one, or the point is not carried at all: both read from
PostgreSQL), or still waiting; that upload's fold then meets readings at or before the folded ones and
rebuilds those ranges from raw rows, which writes the kept rows anew (queries read the point raw until
then, as for any late upload). A writer that stores rows without queueing them (a benchmark's uploads
with upkeep off) breaks that; rows it stored after the kept ones are caught (the fold looks up the newest
stored row before the carried ones, one index probe per point, and reads back when it is not the newest
kept one), rows among them are not, as before this module: the fold learns of changes from the queue.
Retention drops rows by age: kept rows more than FOLD_WINDOW older than the upload are not used, so only an
upload of readings about to be dropped could meet a dropped kept row.
"""

from dataclasses import dataclass
from datetime import datetime

from db.central import energy_fold
from db.central.energy_fold import FOLD_WINDOW, MICROSECOND, PG_EPOCH_US, Q_US, Window, micros
from db.central.rollups.carried import Carried
from db.energy import BAD_QUALITY

TAIL_ROWS = 4096  # rows a state keeps at most: a point reading every second has 900 per quarter
ROW_BYTES = 18  # timestamptz_send 8, float8send 8, int2send 2
FOLD_WINDOW_US = FOLD_WINDOW // MICROSECOND  # kept rows older than that before the carried ones are not used


@dataclass(frozen=True, slots=True)
class Extended:
    """A fold window made of a point's kept rows and its carried rows, and the usable readings in it."""

    window: Window
    newest_us: int  # its newest row (the last carried one)
    last_usable_us: int  # its newest usable row


def _count(window: Window) -> int:
    return len(window.stamps) // 8


def _stamp(window: Window, i: int) -> int:
    """Row i's time in microseconds since 1970."""
    return int.from_bytes(window.stamps[8 * i : 8 * i + 8], "big", signed=True) + PG_EPOCH_US


def _usable(window: Window, i: int) -> bool:
    return int.from_bytes(window.qualities[2 * i : 2 * i + 2], "big", signed=True) < BAD_QUALITY


def newest_usable(window: Window, start: int = 0) -> int | None:
    """Time (µs since 1970) of the window's newest usable row at index start or later, or None."""
    if energy_fold.native is not None:
        return energy_fold.native.newest_usable(window.stamps, window.qualities, start)
    for i in range(_count(window) - 1, start - 1, -1):
        if _usable(window, i):
            return _stamp(window, i)
    return None


def _first_at(window: Window, us: int) -> int:
    """Index of the window's first row at us or later (rows in time order)."""
    lo, hi = 0, _count(window)
    while lo < hi:
        mid = (lo + hi) // 2
        if _stamp(window, mid) < us:
            lo = mid + 1
        else:
            hi = mid
    return lo


def keep(window: Window, tail_us: int, upto_us: int) -> bytes | None:
    """The rows a state keeps of a window that holds every row of its point from the usable one before
    tail_us to upto_us (the newest reading its folds claimed): the usable row before tail_us and the rows
    from tail_us to upto_us (None past TAIL_ROWS). Later rows in the window belong to uploads not folded yet."""
    if energy_fold.native is not None:  # db/central/_fold.c: the same rows, without a Python int per row
        return energy_fold.native.tail_keep(
            window.stamps, window.values, window.qualities, tail_us, upto_us, TAIL_ROWS
        )
    start, end = _first_at(window, tail_us), _first_at(window, upto_us + 1)
    before = start - 1
    while before >= 0 and not _usable(window, before):
        before -= 1
    rows = ([before] if before >= 0 else []) + list(range(start, max(start, end)))
    if not rows or len(rows) > TAIL_ROWS:
        return None
    parts = []
    for column, width in ((window.stamps, 8), (window.values, 8), (window.qualities, 2)):
        if before >= 0:
            parts.append(column[width * before : width * (before + 1)])
        parts.append(column[width * start : width * max(start, end)])
    return b"".join(parts)


def unpack(kept: bytes) -> Window:
    """A state's kept rows as a window."""
    n = len(kept) // ROW_BYTES
    return Window(kept[: 8 * n], kept[8 * n : 16 * n], kept[16 * n :])


def extend(
    kept: bytes, held: Carried, tail_start: datetime, last_usable: datetime | None, stored: datetime | None
) -> Extended | None:
    """The point's fold window from its kept rows and its carried rows, or None when they do not make it:
    a carried row at or before the newest kept one, a stored row between them (stored: the newest stored
    row before the first carried one), kept rows older than FOLD_WINDOW before the carried ones, or kept
    rows that disagree with the state (its newest usable reading and that one's quarter)."""
    old = unpack(kept)
    n = _count(old)
    if n == 0 or len(kept) != n * ROW_BYTES or last_usable is None or stored is None:
        return None
    newest = _stamp(old, n - 1)
    if held.first_us <= newest or micros(stored) != newest or held.first_us - _stamp(old, 0) > FOLD_WINDOW_US:
        return None
    usable = newest_usable(old)
    if usable != micros(last_usable) or usable - usable % Q_US != micros(tail_start):
        return None
    window = Window(old.stamps + held.stamps, old.values + held.values, old.qualities + held.qualities)
    return Extended(window, held.last_us, newest_usable(window, n) or usable)
