"""generateReport: energy per site, meter and day (or hour), peak power and data completeness.

Energy and cost come from the same buckets as the `energy` query (db/central/energy_query.py energy_pages: the
stored 15-minute summary and the raw readings after it, consumption split by time at each edge, correct across
counter resets and rollovers, priced per local hour), so a report and the energy page give the same figures;
periods are the site's local days (DAY) or local hours (HOUR) that start inside [from, to). Readings counted
and the peak power come from the same buckets, counter resets from the raw readings; completeness compares readings
received with those expected from each meter's own interval (configured in meters.config.interval_seconds,
else observed in its readings, else the site's collection interval), counting only the time up to now
(db/clock.py): a report of today is not incomplete for hours still to come.
"""

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field, computed_field
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidInput, NotFoundError
from api.services.access import Scope
from causes import Cause, text
from db.central import reports as data
from db.central.energy_query import energy_pages, energy_points
from db.central.site_status import SIMULATED_FROM, SIMULATED_UNTIL
from db.central.tariffs import Tariff, tariffs_of
from db.clock import clock
from db.energy import EnergyBucket, iter_bucket_bounds
from db.energy.units import kwh_factor, normalize_unit

RESOLUTIONS = ("DAY", "HOUR")
MAX_DAYS = 400
MAX_HOURS = 24 * 62
KW_FACTORS = {"watts": 0.001, "w": 0.001, "kilowatts": 1.0, "kw": 1.0, "megawatts": 1000.0, "mw": 1000.0}


class Period(BaseModel):
    """Energy of one period (a local day or hour); null when no energy register's readings span any of it."""

    start: datetime
    end: datetime
    energy_kwh: float | None = None
    cost: float | None = None


class MeterReport(BaseModel):
    """One meter over the report window."""

    meter_id: int
    external_id: str
    name: str
    energy_kwh: float | None = None
    peak_power_kw: float | None = None
    peak_power_at: datetime | None = None
    expected_readings: int = 0
    received_readings: int = 0
    counter_resets: int = 0
    cost: float | None = None
    periods: list[Period] = Field(default_factory=list)

    @computed_field
    @property
    def completeness(self) -> float | None:
        """Received / expected readings (at most 1)."""
        return min(1.0, self.received_readings / self.expected_readings) if self.expected_readings else None


class SiteReport(BaseModel):
    """One site: totals, the highest peak of any of its meters, completeness, periods and meters."""

    site_id: int
    site_name: str
    timezone: str
    energy_kwh: float | None = None
    peak_power_kw: float | None = Field(default=None, description="highest peak of any one meter of the site")
    peak_power_at: datetime | None = None
    expected_readings: int = 0
    received_readings: int = 0
    currency: str | None = None
    cost: float | None = None
    periods: list[Period] = Field(default_factory=list)
    meters: list[MeterReport] = Field(default_factory=list)
    simulated_from: datetime | None = Field(
        default=None, description="start of the site's simulated (demo) readings, as its edge reported them"
    )
    simulated_until: datetime | None = Field(default=None, description="end of those simulated readings")

    @computed_field
    @property
    def completeness(self) -> float | None:
        """Received / expected readings (at most 1)."""
        return min(1.0, self.received_readings / self.expected_readings) if self.expected_readings else None

    def simulated(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) holds simulated readings of this site."""
        return bool(self.simulated_from and self.simulated_until) and (
            self.simulated_from < end and start <= self.simulated_until
        )


class Report(BaseModel):
    """The whole report as structured data; api/services/report_formats.py renders it as CSV, Markdown and HTML."""

    start: datetime
    end: datetime
    resolution: str
    generated_at: datetime
    sites: list[SiteReport]


def _periods(start: datetime, end: datetime, resolution: str, timezone: str) -> list[Period]:
    """The site's local days or hours (the energy query's buckets) that start inside [start, end)."""
    bounds = iter_bucket_bounds(start, end, resolution.lower(), timezone)
    return [Period(start=s, end=e) for s, e in bounds if start <= s < end]


def _check(start: datetime, end: datetime, resolution: str) -> str:
    resolution = resolution.upper()
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("from and to need a time zone")
    if end <= start:
        raise InvalidInput("to must be after from")
    limit = timedelta(days=MAX_DAYS) if resolution == "DAY" else timedelta(hours=MAX_HOURS)
    if end - start > limit:
        raise InvalidInput(f"a {resolution} report covers at most {limit.days} days")
    return resolution


def _add(total: float | None, value: float | None) -> float | None:
    return total if value is None else (total or 0.0) + value


async def generate_report(
    session: AsyncSession,
    site_ids: list[int] | None,
    start: datetime,
    end: datetime,
    resolution: str = "DAY",
    *,
    scope: Scope,
) -> Report:
    """The report of these sites (all of the caller's when None) over [start, end)."""
    resolution = _check(start, end, resolution)
    if site_ids is None:
        site_ids = None if scope.is_admin else sorted(scope.site_ids())
    else:
        scope.check_reads_all(site_ids)
    sites = await data.report_sites(session, site_ids)
    if site_ids is not None and len(sites) < len(set(site_ids)):
        missing = sorted(set(site_ids) - {s.id for s in sites})
        raise NotFoundError(text(Cause.UNKNOWN_SITE, site_id=", ".join(map(str, missing))))
    points = await data.report_points(session, [s.id for s in sites])
    by_site: dict[int, list[data.ReportPoint]] = defaultdict(list)
    for p in points:
        by_site[p.site_id].append(p)
    tariffs = await tariffs_of(session, [s.id for s in sites])
    reports = [
        await _site_report(session, site, by_site[site.id], start, end, resolution, tariffs.get(site.id))
        for site in sites
    ]
    return Report(
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        resolution=resolution,
        generated_at=clock().now(),
        sites=reports,
    )


async def _site_report(session, site, points, start, end, resolution, tariff: Tariff | None) -> SiteReport:
    periods = _periods(start, end, resolution, site.timezone or "UTC")
    report = SiteReport(
        site_id=site.id,
        site_name=site.name,
        timezone=site.timezone,
        periods=[Period(start=p.start, end=p.end) for p in periods],
    )
    health = site.health or {}
    if health.get(SIMULATED_FROM) and health.get(SIMULATED_UNTIL):
        report.simulated_from = datetime.fromisoformat(health[SIMULATED_FROM])
        report.simulated_until = datetime.fromisoformat(health[SIMULATED_UNTIL])
    report.currency = tariff.currency if tariff else None
    if not periods:
        return report
    lo, hi = periods[0].start, periods[-1].end
    rollovers = {p.point_id: p.rollover for p in points if _kwh(p) is not None}
    resets = await data.counter_resets(session, rollovers, lo, hi)
    horizon = min(hi, clock().now())
    elapsed = max(0.0, (horizon - lo).total_seconds())
    by_point = await _buckets(session, points, lo, hi, resolution, tariff)
    meters: dict[int, MeterReport] = {}
    for p in points:
        meter = meters.get(p.meter_id)
        if meter is None:
            meter = meters[p.meter_id] = MeterReport(
                meter_id=p.meter_id, external_id=p.external_id, name=p.meter_name
            )
            meter.periods = [Period(start=x.start, end=x.end) for x in periods]
        interval = (
            p.interval_seconds
            or (await data.observed_interval(session, p.point_id, horizon) if by_point[p.point_id] else None)
            or site.collection_interval_seconds
            or 60.0
        )
        meter.expected_readings += int(elapsed // max(interval, 1.0))
        meter.received_readings += sum(b.count for b in by_point[p.point_id])
        if (factor := _kwh(p)) is not None:
            index = {x.start: x for x in meter.periods}
            for b in by_point[p.point_id]:
                period = index.get(b.start)
                if period is None or b.consumption is None:
                    continue
                period.energy_kwh = _add(period.energy_kwh, b.consumption * factor)
                meter.energy_kwh = _add(meter.energy_kwh, b.consumption * factor)
                period.cost = _add(period.cost, b.cost)
                meter.cost = _add(meter.cost, b.cost)
            meter.counter_resets += resets.get(p.point_id, 0)
        kw = KW_FACTORS.get(normalize_unit(p.unit)) if not p.cumulative else None
        if kw is not None and (found := await _peak(session, p.point_id, by_point[p.point_id])):
            if meter.peak_power_kw is None or found[1] * kw > meter.peak_power_kw:
                meter.peak_power_at, meter.peak_power_kw = found[0], found[1] * kw
    report.meters = list(meters.values())
    for meter in report.meters:
        report.energy_kwh = _add(report.energy_kwh, meter.energy_kwh)
        report.cost = _add(report.cost, meter.cost)
        report.expected_readings += meter.expected_readings
        report.received_readings += meter.received_readings
        for total, part in zip(report.periods, meter.periods, strict=True):
            total.energy_kwh = _add(total.energy_kwh, part.energy_kwh)
            total.cost = _add(total.cost, part.cost)
        if meter.peak_power_kw is not None and (
            report.peak_power_kw is None or meter.peak_power_kw > report.peak_power_kw
        ):
            report.peak_power_kw, report.peak_power_at = meter.peak_power_kw, meter.peak_power_at
    return report


def _kwh(point: data.ReportPoint) -> float | None:
    """The factor to kWh of an energy register (a cumulative point in an energy unit), else None."""
    return kwh_factor(point.unit) if point.cumulative else None


async def _buckets(
    session, points, lo: datetime, hi: datetime, resolution: str, tariff: Tariff | None
) -> dict[int, list[EnergyBucket]]:
    """Each point's `energy` query buckets over [lo, hi) (the report's periods), registers priced by the site's
    tariff: readings counted, consumption and cost, and the highest usable value of each period."""
    facts = await energy_points(session, [p.point_id for p in points])
    priced = [replace(f, tariff=tariff) for f in facts.values()]  # the tariff the report names
    pages = await energy_pages(session, priced, lo, hi, resolution.lower()) if priced else {}
    return defaultdict(list, pages)


async def _peak(session, point_id: int, buckets: list[EnergyBucket]) -> tuple[datetime, float] | None:
    """The highest usable reading and when: the bucket with the highest maximum (the earliest of equals), then
    its instant from the raw readings (the bucket's start when retention dropped them)."""
    best = max(
        (b for b in buckets if b.max is not None), key=lambda b: (b.max, -b.start.timestamp()), default=None
    )
    if best is None:
        return None
    return await data.highest(session, point_id, best.start, best.end) or (best.start, best.max)
