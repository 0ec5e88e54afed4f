"""SQL forms of db.energy.step's rules for one interval of a register (prev_v to value)."""


def register_delta(rollover: str) -> str:
    """SQL: consumption over one interval from prev_v to value (NULL without prev_v); rollover: its column."""
    return f"""CASE
      WHEN prev_v IS NULL THEN NULL
      WHEN value >= prev_v THEN value - prev_v
      WHEN {rollover} - prev_v + value BETWEEN 0 AND {rollover} / 2 THEN {rollover} - prev_v + value
      WHEN value < prev_v * 0.5 THEN greatest(value, 0)
      ELSE 0
    END"""


def register_wrapped(rollover: str) -> str:
    """SQL: the register dropped over the interval and it counts as a rollover or a reset (not jitter)."""
    return f"""value < prev_v AND (
      coalesce({rollover} - prev_v + value BETWEEN 0 AND {rollover} / 2, false) OR value < prev_v * 0.5
    )"""
