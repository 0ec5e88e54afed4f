"""Whether a data point is a cumulative register (energy) or an instantaneous value (power), from its unit."""

import logging

logger = logging.getLogger(__name__)

# BACnet engineering-unit names (bacpypes3 spelling) and the usual abbreviations, mapped to kWh per unit.
ENERGY_KWH_FACTORS: dict[str, float] = {
    "watt-hours": 0.001,
    "kilowatt-hours": 1.0,
    "megawatt-hours": 1000.0,
    "wh": 0.001,
    "kwh": 1.0,
    "mwh": 1000.0,
    "btus": 0.000293071,
    "kilo-btus": 0.293071,
    "mega-btus": 293.071,
    "kilojoules": 1 / 3600,
    "megajoules": 1 / 3.6,
    "joules": 1 / 3_600_000,
}

# Other registers that only ever count up (reactive/apparent energy, volume, mass).
OTHER_CUMULATIVE_UNITS = {
    "volt-ampere-hours",
    "kilovolt-ampere-hours",
    "megavolt-ampere-hours",
    "volt-ampere-hours-reactive",
    "kilovolt-ampere-hours-reactive",
    "megavolt-ampere-hours-reactive",
    "kvah",
    "kvarh",
    "varh",
    "cubic-meters",
    "cubic-feet",
    "liters",
    "us-gallons",
    "imperial-gallons",
    "m3",
    "therms",
    "ton-hours",
}

INSTANTANEOUS_UNITS = {
    "watts",
    "kilowatts",
    "megawatts",
    "volts",
    "kilovolts",
    "amperes",
    "milliamperes",
    "hertz",
    "power-factor",
    "degrees-celsius",
    "degrees-fahrenheit",
    "percent",
    "volt-amperes",
    "kilovolt-amperes",
    "volt-amperes-reactive",
    "kilovolt-amperes-reactive",
    "w",
    "kw",
    "mw",
    "v",
    "a",
    "hz",
    "pf",
}


def normalize_unit(unit: str | None) -> str:
    """Lower-case, trimmed unit name with underscores as dashes (bacpypes3 and config spellings agree)."""
    return (unit or "").strip().lower().replace("_", "-").replace(" ", "-")


def is_cumulative_unit(unit: str | None) -> bool | None:
    """True for counting registers, False for instantaneous units, None when the unit says nothing."""
    name = normalize_unit(unit)
    if name in ENERGY_KWH_FACTORS or name in OTHER_CUMULATIVE_UNITS:
        return True
    if name in INSTANTANEOUS_UNITS:
        return False
    return None


def infer_cumulative(unit: str | None, point_name: str = "", override: bool | None = None) -> bool:
    """Cumulative or not: the config override wins, then the unit, then the point's name (total_kwh)."""
    if override is not None:
        return override
    from_unit = is_cumulative_unit(unit)
    if from_unit is not None:
        return from_unit
    name = point_name.lower()
    guess = name.startswith("total") or name.endswith(("_kwh", "_wh", "_mwh", "energy"))
    if guess:
        logger.debug("point %s with unit %r taken as cumulative from its name", point_name, unit)
    return guess


def kwh_factor(unit: str | None) -> float | None:
    """Multiplier from the unit to kWh, or None when the unit is not an energy unit."""
    return ENERGY_KWH_FACTORS.get(normalize_unit(unit))


# Power units (bacpypes3 spelling and abbreviations) to kW.
POWER_KW_FACTORS: dict[str, float] = {
    "watts": 0.001,
    "w": 0.001,
    "kilowatts": 1.0,
    "kw": 1.0,
    "megawatts": 1000.0,
    "mw": 1000.0,
}


def kw_factor(unit: str | None) -> float | None:
    """Multiplier from the unit to kW, or None when the unit is not a power unit."""
    return POWER_KW_FACTORS.get(normalize_unit(unit))
