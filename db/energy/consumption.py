"""Energy buckets of one point in one pass: consumption with edges split by time, demand, completeness.

Same rules as db.energy.reference_buckets (which restates them bucket by bucket); this one sorts once and
finds each edge by bisection, so a page of buckets costs O((readings + buckets) log readings).
"""

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from db.energy import (
    BAD_QUALITY,
    GAP_FACTOR,
    QUARTER,
    EnergyBucket,
    Sample,
    bucket_quality_of,
    hour_pieces,
    ordered,
    step,
)

FLOAT_SLACK = 5e-7  # seconds: float timestamps near 2e9 s are exact to 2.4e-7; readings differ by >= 1 µs


class _Register:
    """Consumption since the first usable reading, linear between readings, and the time it covers.

    Times are POSIX seconds (floats): a month of one-minute readings is 44,640 intervals, and float
    arithmetic costs a fraction of datetime arithmetic.
    """

    def __init__(self, usable: list[Sample], max_gap: timedelta, rollover: float | None) -> None:
        xs = self.xs = [u.ts.timestamp() for u in usable]
        gap = self.max_gap = max_gap.total_seconds()
        acc, cov, ok = self.acc, self.cov, self.ok = [0.0], [0.0], []
        values = [u.value for u in usable]
        total, seen = 0.0, 0.0
        for i in range(1, len(xs)):
            total += step(values[i - 1], values[i], rollover)[0]
            span = xs[i] - xs[i - 1]
            short = span <= gap + FLOAT_SLACK
            seen += span if short else 0.0
            acc.append(total)
            ok.append(short)
            cov.append(seen)

    def at(self, t: datetime) -> float:
        """F(t) for t inside the readings' span."""
        x, xs = t.timestamp(), self.xs
        i = min(max(bisect_right(xs, x) - 1, 0), len(xs) - 2)
        return self.acc[i] + (self.acc[i + 1] - self.acc[i]) * ((x - xs[i]) / (xs[i + 1] - xs[i]))

    def covered(self, t: datetime) -> float:
        """Seconds up to t covered by short intervals (and by max_gap after the newest reading)."""
        x, xs = t.timestamp(), self.xs
        i = bisect_right(xs, x) - 1
        if i < 0:
            return 0.0
        if i == len(xs) - 1:
            return self.cov[i] + min(x - xs[i], self.max_gap)
        return self.cov[i] + (x - xs[i] if self.ok[i] else 0.0)


def energy_buckets(
    samples: Iterable[Sample],
    bounds: Sequence[tuple[datetime, datetime]],
    *,
    cumulative: bool,
    interval: timedelta,
    now: datetime,
    rollover: float | None = None,
    price: Callable[[datetime], float] | None = None,
    timezone: str = "UTC",
) -> list[EnergyBucket]:
    """Buckets of bounds that hold a reading or (cumulative) lie inside the readings' span."""
    rows = ordered(samples)
    stamps = [r.ts for r in rows]
    usable = [r for r in rows if r.quality < BAD_QUALITY]
    reg = _Register(usable, GAP_FACTOR * interval, rollover)
    first_ts, last_ts = (usable[0].ts, usable[-1].ts) if usable else (None, None)
    out = []
    for start, end in bounds:
        inside = rows[bisect_left(stamps, start) : bisect_left(stamps, end)]
        spans = len(usable) > 1 and first_ts < end and last_ts > start
        if not inside and not (cumulative and spans):
            continue
        good = [s for s in inside if s.quality < BAD_QUALITY]
        bucket = EnergyBucket(start, end, count=len(inside))
        if good:
            values = [s.value for s in good]
            bucket.mean, bucket.min, bucket.max = sum(values) / len(values), min(values), max(values)
            bucket.first_value, bucket.last_value = good[0].value, good[-1].value
        horizon = min(end, now)
        if horizon > start and usable:
            seen = reg.covered(horizon) - reg.covered(start)
            bucket.completeness = min(1.0, seen / (horizon - start).total_seconds())
        elif horizon > start:
            bucket.completeness = 0.0
        if cumulative and spans:
            lo, hi = max(start, first_ts), min(end, last_ts)
            bucket.consumption = reg.at(hi) - reg.at(lo)
            if price is not None:
                bucket.cost = _cost(reg, lo, hi, price, timezone)
            peak = _peak_energy(reg, start, end, first_ts, last_ts)
        else:
            peak = _peak_mean(good, start) if not cumulative else None
        if peak is not None:
            bucket.peak_demand, bucket.peak_demand_at = peak
        flagged = any(s.quality > 0 for s in inside)
        bucket.quality = bucket_quality_of(
            bucket.completeness, bucket.consumption, len(good), flagged, cumulative
        )
        out.append(bucket)
    return out


def _cost(reg: _Register, lo: datetime, hi: datetime, price, timezone: str) -> float:
    """Consumption of each local hour piece of [lo, hi) at that hour's price."""
    total, values = 0.0, {}
    for a, b in hour_pieces(lo, hi, timezone):
        fa = values.get(a)
        fa = reg.at(a) if fa is None else fa
        values[b] = fb = reg.at(b)
        total += (fb - fa) * price(a)
    return total


def _peak_energy(reg: _Register, start, end, first_ts, last_ts) -> tuple[float, datetime] | None:
    """Highest 15-minute consumption x 4 (the billed demand) among quarters the readings fully cover."""
    best, q = None, start
    while q < end:
        if first_ts <= q and q + QUARTER <= last_ts:
            demand = 4 * (reg.at(q + QUARTER) - reg.at(q))
            if best is None or demand > best[0]:
                best = (demand, q)
        q += QUARTER
    return best


def _peak_mean(good: list[Sample], start: datetime) -> tuple[float, datetime] | None:
    """Highest 15-minute mean of usable instantaneous readings, the earliest quarter on ties."""
    sums: dict[int, list[float]] = {}
    for s in good:
        sums.setdefault((s.ts - start) // QUARTER, []).append(s.value)
    best = None
    for index in sorted(sums):
        vals = sums[index]
        mean = sum(vals) / len(vals)
        if best is None or mean > best[0]:
            best = (mean, start + index * QUARTER)
    return best
