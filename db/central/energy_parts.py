"""Quarter-hour parts of a point's energy and buckets assembled from them (the stored summary's algebra).

Every figure of an energy bucket (db/energy/ reference_buckets) adds up or combines exactly over the
quarter hours it holds (every zone's offset is a whole number of quarters): counts, value sums, min/max,
first/last usable value, consumption F(end) - F(start) clipped to the readings' span, the seconds inside
that span, and each quarter's demand. A quarter's figures depend only on the readings in it and the usable
reading on either side, so they can be stored and refolded when a late reading changes them.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from db.energy import BAD_QUALITY, QUARTER, EnergyBucket, Sample, bucket_quality_of, ordered, step

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Q_SECONDS = QUARTER.total_seconds()
FLOAT_SLACK = 5e-7  # seconds, as db/energy/consumption.py: float timestamps near 2e9 s are exact to 2.4e-7


@dataclass(slots=True)
class Part:
    """A point's figures over one quarter hour or one local day [start, end)."""

    start: datetime
    end: datetime
    count: int = 0
    flagged: int = 0
    usable: int = 0
    vsum: float = 0.0
    vmin: float | None = None
    vmax: float | None = None
    first_value: float | None = None
    last_value: float | None = None
    consumption: float | None = None
    span: float = 0.0  # seconds of the part inside the usable readings' span
    longest: float = 0.0  # longest interval between usable readings that overlaps the part, seconds
    covered: float = 0.0  # seconds up to now covered by intervals no longer than the gap limit
    whole: bool = False  # a quarter the readings cover from start to end (counts for demand)
    peak: float | None = None
    peak_at: datetime | None = None
    hours: dict[datetime, float] | None = None  # a day's consumption per local hour start (for cost)

    def add_value(self, value: float) -> None:
        """Count one usable reading (parts are filled in time order)."""
        self.usable += 1
        self.vsum += value
        self.vmin = value if self.vmin is None else min(self.vmin, value)
        self.vmax = value if self.vmax is None else max(self.vmax, value)
        if self.first_value is None:
            self.first_value = value
        self.last_value = value


_NO_STATS = (None, None, None, None, None)


def quarter_index(ts: datetime) -> int:
    """Index of the quarter hour holding ts (exact: integer microseconds)."""
    return (ts - EPOCH) // QUARTER


def quarter_floor(ts: datetime) -> datetime:
    """Start of the quarter hour holding ts."""
    return EPOCH + quarter_index(ts) * QUARTER


def quarter_parts(
    samples: Iterable[Sample],
    lo: datetime,
    hi: datetime,
    *,
    cumulative: bool,
    rollover: float | None = None,
    gap: float | None = None,
    now: datetime | None = None,
) -> list[Part]:
    """Parts of the quarters in [lo, hi) (quarter aligned) that hold a reading or an interval, oldest first.

    Give the usable reading on either side of [lo, hi) too. With gap (seconds) and now, `covered` is the
    completeness numerator: seconds up to now inside intervals no longer than gap, plus up to gap after
    the newest usable reading when none follows; without, it stays 0 (the stored rows keep `span`).
    """
    rows = ordered(samples)
    k_lo, k_hi = quarter_index(lo), quarter_index(hi)
    parts: dict[int, Part] = {}

    def part(k: int) -> Part:
        found = parts.get(k)
        if found is None:
            start = EPOCH + k * QUARTER
            found = parts[k] = Part(start, start + QUARTER)
        return found

    for row in rows:
        if lo <= row.ts < hi:
            p = part(quarter_index(row.ts))
            p.count += 1
            p.flagged += row.quality > 0
            if row.quality < BAD_QUALITY:
                p.add_value(row.value)
    usable = [r for r in rows if r.quality < BAD_QUALITY]
    xs = [(u.ts - EPOCH).total_seconds() for u in usable]
    now_x = (now - EPOCH).total_seconds() if now is not None else float("inf")
    for i in range(1, len(usable)):
        a, b = xs[i - 1], xs[i]
        if b <= (lo - EPOCH).total_seconds() or a >= (hi - EPOCH).total_seconds():
            continue
        length = b - a
        delta = step(usable[i - 1].value, usable[i].value, rollover)[0]
        short = gap is not None and length <= gap + FLOAT_SLACK
        first_k = max(quarter_index(usable[i - 1].ts), k_lo)
        last_k = min(quarter_index(usable[i].ts - timedelta(microseconds=1)), k_hi - 1)
        for k in range(first_k, last_k + 1):
            qs = k * Q_SECONDS
            overlap = min(b, qs + Q_SECONDS) - max(a, qs)
            if overlap <= 0:
                continue
            p = part(k)
            p.span += overlap
            p.longest = max(p.longest, length)
            if cumulative:
                p.consumption = (p.consumption or 0.0) + delta * (overlap / length)
            if short and (seen := min(b, qs + Q_SECONDS, now_x) - max(a, qs)) > 0:
                p.covered += seen
    if gap is not None and usable and usable[-1].ts < hi:  # the newest reading: the next is not due yet
        last = xs[-1]
        for k in range(max(quarter_index(usable[-1].ts), k_lo), k_hi):
            qs = k * Q_SECONDS
            if qs >= last + gap:
                break
            if (seen := min(last + gap, qs + Q_SECONDS, now_x) - max(last, qs)) > 0:
                part(k).covered += seen
    for k, p in parts.items():
        qs = k * Q_SECONDS
        p.whole = cumulative and bool(xs) and xs[0] <= qs and qs + Q_SECONDS <= xs[-1]
        set_peak(p, cumulative)
    return [parts[k] for k in sorted(parts)]


def set_peak(p: Part, cumulative: bool) -> None:
    """A quarter's demand: 4 x its consumption when the readings cover it, else the mean of a power point."""
    if cumulative:
        p.peak = 4 * p.consumption if p.whole and p.consumption is not None else None
    else:
        p.peak = p.vsum / p.usable if p.usable else None
    p.peak_at = p.start if p.peak is not None else None


def buckets_from_parts(
    parts: Sequence[Part],
    bounds: Sequence[tuple[datetime, datetime]],
    *,
    cumulative: bool,
    now: datetime,
    price: Callable[[datetime], float] | None = None,
) -> list[EnergyBucket]:
    """Buckets of bounds from the parts inside each (oldest first, not overlapping), as reference_buckets."""
    out, i, n = [], 0, len(parts)
    for start, end in bounds:
        while i < n and parts[i].start < start:
            i += 1
        j = i
        while j < n and parts[j].end <= end:
            j += 1
        if j == i + 1:  # a quarter bucket, or a local day read from its stored row
            bucket = _one_part(parts[i], start, end, cumulative, now, price)
            if bucket is not None:
                out.append(bucket)
        elif j > i:
            bucket = _bucket(parts[i:j], start, end, cumulative, now, price)
            if bucket is not None:
                out.append(bucket)
        i = j
    return out


def _bucket(inside, start, end, cumulative, now, price) -> EnergyBucket | None:
    count = usable = flagged = 0
    vsum, covered = 0.0, 0.0
    consumption = cost = vmin = vmax = first = last = best = None
    for p in inside:
        count += p.count
        flagged += p.flagged
        covered += p.covered
        if p.usable:
            usable += p.usable
            vsum += p.vsum
            vmin = p.vmin if vmin is None or p.vmin < vmin else vmin
            vmax = p.vmax if vmax is None or p.vmax > vmax else vmax
            first = p.first_value if first is None else first
            last = p.last_value
        if p.consumption is not None and cumulative:
            consumption = p.consumption if consumption is None else consumption + p.consumption
            if price is not None:
                cost = (cost or 0.0) + _part_cost(p, price)
        if p.peak is not None and (best is None or p.peak > best.peak):  # the earliest of equal peaks
            best = p
    if not count and consumption is None:
        return None
    bucket = EnergyBucket(start, end, count=count, consumption=consumption, cost=cost)
    if usable:
        bucket.mean, bucket.min, bucket.max = vsum / usable, vmin, vmax
        bucket.first_value, bucket.last_value = first, last
    horizon = min(end, now)
    if horizon > start:
        bucket.completeness = min(1.0, covered / (horizon - start).total_seconds())
    if best is not None:
        bucket.peak_demand, bucket.peak_demand_at = best.peak, best.peak_at
    bucket.quality = bucket_quality_of(bucket.completeness, consumption, usable, flagged > 0, cumulative)
    return bucket


def _one_part(p: Part, start, end, cumulative, now, price) -> EnergyBucket | None:
    """_bucket of a single part, without its loop (the same figures: most buckets hold one part)."""
    consumption = p.consumption if cumulative else None
    if not p.count and consumption is None:
        return None
    cost = 0.0 + _part_cost(p, price) if price is not None and consumption is not None else None
    horizon = min(end, now)
    completeness = (
        min(1.0, (0.0 + p.covered) / (horizon - start).total_seconds()) if horizon > start else None
    )
    quality = bucket_quality_of(completeness, consumption, p.usable, p.flagged > 0, cumulative)
    # positional, in EnergyBucket's field order (a year of days makes 366 of these); no usable value: no stats
    stats = (p.vsum / p.usable, p.vmin, p.vmax, p.first_value, p.last_value) if p.usable else _NO_STATS
    peak_at = p.peak_at if p.peak is not None else None
    return EnergyBucket(
        start, end, p.count, *stats, consumption, completeness, p.peak, peak_at, quality, cost
    )


def _part_cost(p: Part, price: Callable[[datetime], float]) -> float:
    """A quarter lies in one local hour; a day carries its consumption per local hour."""
    if p.hours is None:
        return p.consumption * price(p.start)
    return sum(c * price(h) for h, c in p.hours.items())
