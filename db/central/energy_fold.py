"""The stored quarters of one fold window in one pass over its rows (the fold's lean form of quarter_parts).

db/central/energy_parts.py quarter_parts is the reference: for the stored columns (no gap limit, no `now`)
this gives the same figures by the same float operations in the same order, on integer microseconds and
plain lists instead of datetimes and Part objects; the fold ran quarter_parts over every new reading, the
largest part of the summary's upkeep (tests/db/central/test_energy_fold.py holds the two equal).

Where `pip install -e .` found a C compiler, db/central/_fold.c runs this loop over the window's bytes as
PostgreSQL sends them, with no Python object per reading: `native` is that module, else None and the Python forms here run (same figures; tests/db/central/test_native_fold.py).
"""

import operator
import sys
from array import array
from datetime import UTC, datetime, timedelta
from itertools import islice

from db.energy import BAD_QUALITY, RESET_FRACTION

try:
    from db.central import _fold as native
except ImportError:  # not built (no C compiler at install): the Python forms, ~5x the CPU per reading
    native = None

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Q_US = 900_000_000  # a quarter hour in microseconds
Q_SECONDS = 900.0
MICROSECOND = timedelta(microseconds=1)
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01, PostgreSQL's epoch, in microseconds since 1970
FOLD_WINDOW = timedelta(days=2)  # readings the summary fold (energy_summary.py) reads per point in one step

# a quarter's row: the columns of energy_summary._INSERT after point_id, q and whole
COUNT, FLAGGED, USABLE, VSUM, VMIN, VMAX, FIRST, LAST, CONSUMPTION, SPAN, LONGEST = range(11)


def micros(ts: datetime) -> int:
    """Microseconds since 1970 (exact)."""
    return (ts - EPOCH) // MICROSECOND


def unpack_window(stamps: bytes, values: bytes, qualities: bytes) -> tuple[list[int], list[float], list[int]]:
    """A window's rows as PostgreSQL sends them, concatenated (timestamptz_send, float8send, int2send): lists.

    Microseconds since 1970, values and qualities; no datetime is built per reading (the fold's largest
    per-reading cost after fold_quarters itself).
    """
    ts, vs, qs = array("q", stamps), array("d", values), array("h", qualities)
    if sys.byteorder == "little":  # the wire is big-endian
        ts.byteswap()
        vs.byteswap()
        qs.byteswap()
    return [us + PG_EPOCH_US for us in ts], vs.tolist(), qs.tolist()


class Window:
    """One fold window's rows as PostgreSQL sends them: timestamptz_send, float8send and int2send, each
    concatenated in time order (energy_summary.FOLD_ROWS_SQL); unpacked into lists only when asked."""

    __slots__ = ("stamps", "values", "qualities", "_lists")

    def __init__(self, stamps: bytes, values: bytes, qualities: bytes):
        self.stamps, self.values, self.qualities = stamps, values, qualities
        self._lists: tuple[list[int], list[float], list[int]] | None = None

    @classmethod
    def of(cls, rows) -> "Window":
        """A window of (microseconds since 1970, value, quality) rows, in their binary forms."""
        ts = array("q", (us - PG_EPOCH_US for us, _, _ in rows))
        vs, qs = array("d", (row[1] for row in rows)), array("h", (row[2] for row in rows))
        if sys.byteorder == "little":  # the wire is big-endian
            ts.byteswap()
            vs.byteswap()
            qs.byteswap()
        return cls(ts.tobytes(), vs.tobytes(), qs.tobytes())

    def lists(self) -> tuple[list[int], list[float], list[int]]:
        """Times in microseconds since 1970, values and qualities (unpack_window, once)."""
        if self._lists is None:
            self._lists = unpack_window(self.stamps, self.values, self.qualities)
        return self._lists

    def in_order(self) -> "Window":
        """This window when its times rise strictly, else one of its rows sorted (string_agg keeps no order)."""
        if native is not None:
            ordered = native.ordered(self.stamps)
        else:
            stamps = self.lists()[0]
            ordered = all(map(operator.lt, stamps, islice(stamps, 1, None)))
        return self if ordered else Window.of(sorted(zip(*self.lists(), strict=True)))


def window_quarters(
    window: Window, lo_us: int, hi_us: int, *, cumulative: bool, rollover: float | None
) -> list[tuple[datetime, bool, list]]:
    """fold_quarters over a window in time order: in C where it is built."""
    if native is None:
        rows = zip(*window.lists(), strict=True)
        return fold_quarters(rows, lo_us, hi_us, cumulative=cumulative, rollover=rollover)
    quarters = native.quarters(
        window.stamps, window.values, window.qualities, lo_us, hi_us, cumulative, rollover, RESET_FRACTION
    )
    return [(EPOCH + k * Q_US * MICROSECOND, whole, row) for k, whole, row in quarters]


QUARTER_COLUMNS = (
    "point_id", "q", "whole", "count", "flagged", "usable", "vsum", "vmin", "vmax", "first_value", "last_value",
    "consumption", "span_seconds", "longest",
)  # fmt: skip
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # binary COPY: signature, flags, no extension
COPY_TRAILER = b"\xff\xff"


def _step(prev: float, cur: float, rollover: float | None) -> float:
    # db.energy.step's consumption, inlined arithmetic
    if cur >= prev:
        return cur - prev
    if rollover is not None and 0 <= rollover - prev + cur <= rollover / 2:
        return rollover - prev + cur
    if cur < prev * RESET_FRACTION:
        return max(cur, 0.0)
    return 0.0


def fold_quarters(
    rows, lo_us: int, hi_us: int, *, cumulative: bool, rollover: float | None
) -> list[tuple[datetime, bool, list]]:
    """(start, whole, row) of the quarters in [lo, hi) holding a reading or an interval, oldest first.

    rows: (microseconds, value, quality) in time order, one per instant, with the usable reading on either
    side of [lo, hi) (quarter aligned, in microseconds).
    """
    k_lo, k_last = lo_us // Q_US, hi_us // Q_US - 1
    lo_s, hi_s = lo_us / 1_000_000, hi_us / 1_000_000
    parts: dict[int, list] = {}
    first_x = last_x = None
    prev_x = prev_v = None
    prev_us = 0
    vk, vp = None, None  # the quarter of the last reading counted, and its row
    for us, value, quality in rows:
        usable = quality < BAD_QUALITY
        if lo_us <= us < hi_us:
            k = us // Q_US
            if k != vk:
                p = parts.get(k)
                if p is None:
                    p = parts[k] = [0, 0, 0, 0.0, None, None, None, None, None, 0.0, 0.0]
                vk, vp = k, p
            p = vp
            p[COUNT] += 1
            if quality > 0:
                p[FLAGGED] += 1
            if usable:
                p[USABLE] += 1
                p[VSUM] += value
                if p[FIRST] is None:
                    p[FIRST] = p[VMIN] = p[VMAX] = value
                elif value < p[VMIN]:  # min() keeps the first of equals: so does a strict comparison
                    p[VMIN] = value
                elif value > p[VMAX]:
                    p[VMAX] = value
                p[LAST] = value
        if not usable:
            continue
        x = us / 1_000_000
        if first_x is None:
            first_x = x
        last_x = x
        if prev_x is not None and not (x <= lo_s or prev_x >= hi_s):
            length = x - prev_x
            if not cumulative:
                delta = 0.0
            elif value >= prev_v:  # _step's usual case, inlined
                delta = value - prev_v
            else:
                delta = _step(prev_v, value, rollover)
            k = (us - 1) // Q_US
            if prev_us >= k * Q_US and k_lo <= k <= k_last:  # the usual interval: inside one quarter
                if k == vk:
                    p = vp
                else:
                    p = parts.get(k)
                    if p is None:
                        p = parts[k] = [0, 0, 0, 0.0, None, None, None, None, None, 0.0, 0.0]
                p[SPAN] += length
                if length > p[LONGEST]:
                    p[LONGEST] = length
                if cumulative:
                    c = p[CONSUMPTION]
                    # quarter_parts adds delta * (overlap / length): here overlap == length, so x / x == 1.0
                    # exactly and the product is delta itself
                    p[CONSUMPTION] = (c or 0.0) + delta
                prev_x, prev_v, prev_us = x, value, us
                continue
            first_k = max(prev_us // Q_US, k_lo)
            last_k = min(k, k_last)
            for k in range(first_k, last_k + 1):
                qs = k * Q_SECONDS
                overlap = min(x, qs + Q_SECONDS) - max(prev_x, qs)
                if overlap <= 0:
                    continue
                p = parts.get(k)
                if p is None:
                    p = parts[k] = [0, 0, 0, 0.0, None, None, None, None, None, 0.0, 0.0]
                p[SPAN] += overlap
                if length > p[LONGEST]:
                    p[LONGEST] = length
                if cumulative:
                    c = p[CONSUMPTION]
                    p[CONSUMPTION] = (c or 0.0) + delta * (overlap / length)
        prev_x, prev_v, prev_us = x, value, us
    out = []
    for k in sorted(parts):
        qs = k * Q_SECONDS
        whole = cumulative and first_x is not None and first_x <= qs and qs + Q_SECONDS <= last_x
        out.append((EPOCH + k * Q_US * MICROSECOND, whole, parts[k]))
    return out
