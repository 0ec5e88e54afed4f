"""Validation of an uploaded readings list: plain checks for the usual shape, pydantic (ReadingIn) for the rest.

A 1,000-reading upload validated as 1,000 pydantic models costs ~10 ms; the plain path below accepts only
items that ReadingIn would accept unchanged (exact types, limits, an extended ISO-8601 timestamp with a zone)
and parses each distinct timestamp once, since an edge batch repeats the same instants for every point.
Anything else goes to ReadingIn, which either accepts it (lax conversions) or says why not.

Faster still, api/ingest/decode.py decodes a whole usual upload request into readings checked against the
same limits (db/wire.py): in C into packed records where it can (ColumnReadings), else with msgspec into
tuples (CheckedReadings); when every reading passes, parse_readings takes them as they are. A request that
does not fit, or any reading that fails, takes the general path above.
"""

import struct
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from math import isfinite

from pydantic import ValidationError

from db.central.ingest.copy_binary import EPOCH, MICROSECOND
from db.wire import MAX_NAME, MAX_UNIT, OLDEST_ACCEPTED, QUALITIES, ReadingIn, validation_context

# ((meter external id, data point), UTC timestamp, value, unit, quality)
ParsedReading = tuple[tuple[str, str], datetime, float, str | None, int]

FIELDS = frozenset(ReadingIn.model_fields)
EXACT_INT = 2**53  # larger ints go through pydantic, which decides how they become floats


def plain_time(stamp: object, latest: datetime) -> datetime | None:
    """A zoned extended ISO-8601 string in the accepted range as UTC, else None (pydantic decides)."""
    if (
        type(stamp) is not str
        or len(stamp) < 20
        or stamp[4] != "-"
        or stamp[7] != "-"
        or stamp[10] not in "Tt "
    ):
        return None
    try:
        ts = datetime.fromisoformat(stamp)
        if ts.tzinfo is None:
            return None
        ts = ts.astimezone(UTC)
    except (ValueError, OverflowError):  # 9999-12-31T23:59-01:00 has no UTC form: pydantic says why
        return None
    return ts if OLDEST_ACCEPTED <= ts <= latest else None


def _plain(item: object, stamps: dict, latest: datetime) -> ParsedReading | None:
    """The reading when item has exactly the usual shape, else None."""
    if type(item) is not dict or not item.keys() <= FIELDS:
        return None
    meter, point = item.get("meter_external_id"), item.get("data_point")
    if type(meter) is not str or type(point) is not str:
        return None
    if not (0 < len(meter) <= MAX_NAME and 0 < len(point) <= MAX_NAME):
        return None
    value = item.get("value")
    if type(value) is float:
        if not isfinite(value):
            return None
    elif type(value) is int and -EXACT_INT <= value <= EXACT_INT:
        value = float(value)
    else:
        return None
    unit = item.get("unit")
    if unit is not None and (type(unit) is not str or len(unit) > MAX_UNIT):
        return None
    quality = item.get("quality", 0)
    if type(quality) is not int or quality not in QUALITIES:
        return None
    stamp = item.get("timestamp")
    ts = stamps.get(stamp) if type(stamp) is str else None
    if ts is None:
        ts = plain_time(stamp, latest)
        if ts is None:
            return None
        stamps[stamp] = ts
    return (meter, point), ts, value, unit, quality


def _reason(err: ValidationError) -> str:
    first = err.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "reading"
    return f"{where}: {first.get('msg', 'invalid')}"


def _with_pydantic(item: object, context: dict) -> ParsedReading | str:
    """The reading as ReadingIn validates it, or the reason it is refused."""
    try:
        r = ReadingIn.model_validate(item, context=context)
    except ValidationError as err:
        return _reason(err)
    except (TypeError, ValueError) as err:
        return str(err)
    return (r.meter_external_id, r.data_point), r.timestamp, r.value, r.unit, int(r.quality)


class CheckedReadings(list):
    """Readings of an upload already parsed (ParsedReading tuples) by api/ingest/decode.py: nothing was refused."""


# api/ingest/_readings.c's record: microseconds since 1970 UTC, value, key index, unit index (-1: none), quality
RECORD = struct.Struct("=qdiiii")


class ColumnReadings:
    """Readings of an upload already checked by api/ingest/_readings.c, packed: nothing was refused.

    keys: the distinct (meter, point) in the order they first appear; key_units: the unit index of each key's
    first reading; units: the distinct units; records: RECORD per reading, in upload order. The upload's COPY
    rows are made from the records (db/central/ingest/_rows.c copy_columns) with no Python object per reading;
    iterating gives the ParsedReading tuples, for the paths that need them (refusals, SQLite, the Python forms),
    and per_key each point's count and newest reading (events).
    """

    __slots__ = ("keys", "key_units", "units", "records")

    def __init__(self, keys: list, key_units: list[int], units: list[str], records: bytes):
        self.keys, self.key_units, self.units, self.records = keys, key_units, units, records

    def __len__(self) -> int:
        return len(self.records) // RECORD.size

    def __iter__(self) -> Iterator[ParsedReading]:
        keys, units = self.keys, self.units
        for us, value, key, unit, quality, _ in RECORD.iter_unpack(self.records):
            yield keys[key], EPOCH + us * MICROSECOND, value, units[unit] if unit >= 0 else None, quality

    def per_key(self) -> Iterator[tuple[tuple[str, str], int, ParsedReading]]:
        """Each key (in the order keys first appear) with its count of readings and its newest reading (of
        equal times the later one), without a tuple per reading (events of an upload)."""
        counts, newest, at = [0] * len(self.keys), [None] * len(self.keys), [0] * len(self.keys)
        for index, (us, _, key, _, _, _) in enumerate(RECORD.iter_unpack(self.records)):
            counts[key] += 1
            known = newest[key]
            if known is None or us >= known:
                newest[key], at[key] = us, index
        units = self.units
        for key, count, index in zip(self.keys, counts, at, strict=True):
            if count:
                us, value, _, unit, quality, _ = RECORD.unpack_from(self.records, index * RECORD.size)
                reading = (key, EPOCH + us * MICROSECOND, value, units[unit] if unit >= 0 else None, quality)
                yield key, count, reading

    def first_units(self) -> dict[tuple[str, str], str | None]:
        """Each point's unit as its first reading gives it."""
        units = self.units
        return {key: units[u] if u >= 0 else None for key, u in zip(self.keys, self.key_units, strict=True)}


def first_units(accepted: "list[ParsedReading] | ColumnReadings") -> dict[tuple[str, str], str | None]:
    """Each point's unit as its first reading gives it (what a discovered point is registered with)."""
    if type(accepted) is ColumnReadings:
        return accepted.first_units()
    return {reading[0]: reading[3] for reading in reversed(accepted)}


def parse_readings(items: Sequence) -> "tuple[list[ParsedReading] | ColumnReadings, list[dict]]":
    """Accepted readings in upload order, and {index, reason} per refused item."""
    if type(items) is CheckedReadings:
        return list(items), []
    if type(items) is ColumnReadings:
        return items, []
    context = validation_context()
    latest, stamps = context["latest"], {}
    accepted, rejections = [], []
    for index, item in enumerate(items):
        reading = _plain(item, stamps, latest)
        if reading is None:
            reading = _with_pydantic(item, context)
            if type(reading) is str:
                rejections.append({"index": index, "reason": reading})
                continue
        accepted.append(reading)
    return accepted, rejections
