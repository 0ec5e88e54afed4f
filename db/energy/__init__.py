"""Consumption from cumulative registers and per-bucket statistics: pure functions, order independent.

Rules (db/central/register_sql.py states the step in SQL; db/central/energy_fold.py folds by the same ones):
- readings of bad quality (2) carry no trustworthy value: they are counted but skipped for consumption;
- the delta of an interval belongs to the bucket holding its end: bucket [s, e) gets the intervals ending
  in (s, e], so the hour 09:00 gets R(10:00) - R(09:00) with readings on the hour;
- a drop of the register is never negative consumption: with a rollover limit R a wrap (R - prev + cur
  at most R/2) counts R - prev + cur; a drop below half the previous value is a counter reset and counts
  the new value (consumption since zero); a smaller drop is meter jitter and counts zero;
- an interval longer than max_gap is a gap: its delta is still counted (the register saw it) and marked.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

BAD_QUALITY = 2
RESET_FRACTION = 0.5


class StepKind(StrEnum):
    """How one interval between two consecutive readings was read."""

    NORMAL = "normal"
    RESET = "reset"
    ROLLOVER = "rollover"
    JITTER = "jitter"


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one point."""

    ts: datetime
    value: float
    quality: int = 0


@dataclass(frozen=True, slots=True)
class Delta:
    """Consumption over the interval (start, end] between two consecutive usable readings."""

    start: datetime
    end: datetime
    value: float
    kind: StepKind
    gap: bool


def step(prev: float, cur: float, rollover: float | None = None) -> tuple[float, StepKind]:
    """Consumption and kind of the interval from register value prev to cur."""
    if cur >= prev:
        return cur - prev, StepKind.NORMAL
    if rollover is not None and 0 <= rollover - prev + cur <= rollover / 2:
        return rollover - prev + cur, StepKind.ROLLOVER
    if cur < prev * RESET_FRACTION:
        return max(cur, 0.0), StepKind.RESET
    return 0.0, StepKind.JITTER


def ordered(samples: Iterable[Sample]) -> list[Sample]:
    """Samples by time, one per timestamp (the database keeps one row per (point, ts) as well)."""
    samples = list(samples)
    if all(a.ts < b.ts for a, b in zip(samples, samples[1:], strict=False)):
        return samples  # already in order without duplicates (as the database returns them)
    by_ts: dict[datetime, Sample] = {}
    for sample in sorted(samples, key=lambda s: (s.ts, s.quality, s.value)):
        by_ts.setdefault(sample.ts, sample)
    return list(by_ts.values())


def consumption_deltas(
    samples: Iterable[Sample], *, max_gap: timedelta | None = None, rollover: float | None = None
) -> list[Delta]:
    """Deltas between consecutive usable readings, whatever order the samples came in."""
    usable = [s for s in ordered(samples) if s.quality < BAD_QUALITY]
    deltas = []
    for prev, cur in zip(usable, usable[1:], strict=False):
        value, kind = step(prev.value, cur.value, rollover)
        gap = max_gap is not None and cur.ts - prev.ts > max_gap
        deltas.append(Delta(prev.ts, cur.ts, value, kind, gap))
    return deltas


def total_consumption(samples: Iterable[Sample], *, rollover: float | None = None) -> float:
    """Consumption over the whole span of the samples."""
    return sum(d.value for d in consumption_deltas(samples, rollover=rollover))


@lru_cache(maxsize=1024)
def site_zone(timezone: str) -> ZoneInfo:
    """The zone of a site's timezone name, held for the process: ZoneInfo keeps only the 8 zones used last
    alive, and rebuilt one from its file at ~25 µs a call when a fold's points cycled through more."""
    return ZoneInfo(timezone)


@lru_cache(maxsize=16_384)  # a year of days in a few dozen zones: energy pages ask for the same days again
def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """UTC instants of local midnight of day and of the next day (23 h or 25 h apart on DST days)."""
    zone = site_zone(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


@lru_cache(maxsize=4096)  # a fold asks for the same quarter starts and reading times of many points
def local_day(ts: datetime, timezone: str) -> date:
    """The local calendar day holding the instant ts."""
    return ts.astimezone(site_zone(timezone)).date()


def local_days(lo: datetime, hi: datetime, timezone: str) -> list[date]:
    """Local days holding any instant in [lo, hi]."""
    first, last = local_day(lo, timezone), local_day(hi, timezone)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- Consumption per bucket with edges split by time-weighted interpolation (docs/energy-data.md) ---

BUCKET_RESOLUTIONS = ("quarter_hour", "hour", "day", "month")
QUARTER = timedelta(minutes=15)
FIXED_STEPS = {"minute": timedelta(minutes=1), "quarter_hour": QUARTER, "hour": timedelta(hours=1)}
GAP_FACTOR = 3  # an interval longer than 3 of the meter's own intervals is a gap
QUALITY_GOOD, QUALITY_UNCERTAIN, QUALITY_BAD = 0, 1, 2


@dataclass(slots=True)
class EnergyBucket:
    """One point over one bucket [start, end): consumption, register values, demand and completeness."""

    start: datetime
    end: datetime
    count: int = 0
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    first_value: float | None = None
    last_value: float | None = None
    consumption: float | None = None
    completeness: float | None = None
    peak_demand: float | None = None
    peak_demand_at: datetime | None = None
    quality: int = QUALITY_GOOD
    cost: float | None = None
    demand_cost: float | None = None


def _floor_fixed(ts: datetime, step: timedelta, zone: ZoneInfo) -> datetime:
    """Start of the local step (an hour or a quarter) holding ts; offsets are whole quarters everywhere."""
    ts = ts.astimezone(UTC)
    offset = ts.astimezone(zone).utcoffset() or timedelta(0)
    local = ts + offset
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + ((local - epoch) // step) * step - offset


def iter_bucket_bounds(
    lo: datetime, hi: datetime, resolution: str, timezone: str
) -> Iterator[tuple[datetime, datetime]]:
    """Buckets of a resolution overlapping [lo, hi) in the site's local time, as UTC instants, oldest first."""
    zone = site_zone(timezone)
    if resolution in FIXED_STEPS:
        step = FIXED_STEPS[resolution]
        start = _floor_fixed(lo, step, zone)
        while start < hi:
            yield start, start + step
            start += step
    elif resolution == "day":
        day = local_day(lo, timezone)
        start, end = local_day_bounds(day, timezone)
        while start < hi:
            yield start, end
            day += timedelta(days=1)
            start, end = end, local_day_bounds(day + timedelta(days=1), timezone)[0]
    elif resolution == "month":
        first = local_day(lo, timezone).replace(day=1)
        start = local_day_bounds(first, timezone)[0]
        while start < hi:
            first = (first + timedelta(days=32)).replace(day=1)
            end = local_day_bounds(first, timezone)[0]
            yield start, end
            start = end
    else:
        raise ValueError(f"resolution must be one of {', '.join(BUCKET_RESOLUTIONS)}")


def bucket_bounds(
    lo: datetime, hi: datetime, resolution: str, timezone: str
) -> list[tuple[datetime, datetime]]:
    """iter_bucket_bounds as a list."""
    return list(iter_bucket_bounds(lo, hi, resolution, timezone))


TINY = timedelta(microseconds=1)


def reference_buckets(
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
    """Plain restatement of the bucket rules, bucket by bucket (the tests' yardstick for db/energy/consumption.py).

    F(t) is the register's consumption since the first usable reading, linear between usable readings;
    a bucket's consumption is F(end) - F(start) clipped to the readings' span, so an interval that crosses
    an edge is split by time. Completeness is the share of the bucket's past (up to now) covered by
    intervals no longer than GAP_FACTOR x the meter's interval (plus that much after the newest reading).
    """
    rows = ordered(samples)
    usable = [s for s in rows if s.quality < BAD_QUALITY]
    max_gap = GAP_FACTOR * interval
    acc = [0.0]
    for prev, cur in zip(usable, usable[1:], strict=False):
        acc.append(acc[-1] + step(prev.value, cur.value, rollover)[0])

    def F(t: datetime) -> float:
        for i in range(len(usable) - 1):
            a, b = usable[i], usable[i + 1]
            if a.ts <= t <= b.ts:
                return acc[i] + (acc[i + 1] - acc[i]) * ((t - a.ts) / (b.ts - a.ts))
        return acc[-1]

    covered = [(a.ts, b.ts) for a, b in zip(usable, usable[1:], strict=False) if b.ts - a.ts <= max_gap]
    if usable:
        covered.append((usable[-1].ts, usable[-1].ts + max_gap))
    out = []
    for start, end in bounds:
        inside = [s for s in rows if start <= s.ts < end]
        good = [s for s in inside if s.quality < BAD_QUALITY]
        spans = len(usable) > 1 and usable[0].ts < end and usable[-1].ts > start
        if not inside and not (cumulative and spans):
            continue
        bucket = EnergyBucket(start, end, count=len(inside))
        if good:
            values = [s.value for s in good]
            bucket.mean, bucket.min, bucket.max = sum(values) / len(values), min(values), max(values)
            bucket.first_value, bucket.last_value = good[0].value, good[-1].value
        horizon = min(end, now)
        if horizon > start:
            seen = sum(
                (min(b, horizon) - max(a, start)).total_seconds()
                for a, b in covered
                if min(b, horizon) > max(a, start)
            )
            bucket.completeness = min(1.0, seen / (horizon - start).total_seconds())
        quarters = []
        if cumulative and spans:
            lo, hi = max(start, usable[0].ts), min(end, usable[-1].ts)
            bucket.consumption = F(hi) - F(lo)
            if price is not None:
                bucket.cost = sum((F(b) - F(a)) * price(a) for a, b in hour_pieces(lo, hi, timezone))
            q = start
            while q < end:
                if usable[0].ts <= q and q + QUARTER <= usable[-1].ts:
                    quarters.append((4 * (F(q + QUARTER) - F(q)), q))
                q += QUARTER
        elif not cumulative:
            q = start
            while q < end:
                vals = [s.value for s in good if q <= s.ts < q + QUARTER]
                if vals:
                    quarters.append((sum(vals) / len(vals), q))
                q += QUARTER
        if quarters:
            bucket.peak_demand, bucket.peak_demand_at = max(quarters, key=lambda x: (x[0], -x[1].timestamp()))
        flagged = any(s.quality > 0 for s in inside)
        bucket.quality = bucket_quality_of(
            bucket.completeness, bucket.consumption, len(good), flagged, cumulative
        )
        out.append(bucket)
    return out


def hour_pieces(start: datetime, end: datetime, timezone: str) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at the local hour boundaries (where tariff prices change)."""
    return [(max(s, start), min(e, end)) for s, e in iter_bucket_bounds(start, end, "hour", timezone)]


def bucket_quality_of(
    completeness: float | None, consumption: float | None, usable: int, flagged: bool, cumulative: bool
) -> int:
    """Bad: nothing usable says anything about the bucket; uncertain: partial, estimated or flagged readings."""
    if not usable and (consumption is None or not cumulative):
        return QUALITY_BAD
    partial = completeness is not None and completeness < 1.0 - 1e-9
    if partial or flagged or (cumulative and consumption is None):
        return QUALITY_UNCERTAIN
    return QUALITY_GOOD
