"""Costs of one mode against another, pair by pair: on a shared machine runs minutes apart drift by more than
the cost measured, so each pair's two runs, taken back to back, are compared before the pairs are summed up."""

import statistics


def pair_costs(on: list[float], off: list[float]) -> list[float]:
    """1 - on / off for each pair of rates (readings/s) run back to back."""
    return [1 - a / b for a, b in zip(on, off, strict=True)]


def cpu_pair_costs(on: list[float], off: list[float]) -> list[float]:
    """1 - off / on for each pair of CPU costs per reading: the share of `on`'s CPU that `off` did not use."""
    return [1 - b / a for a, b in zip(on, off, strict=True)]


def describe(costs: list[float], unit: str) -> str:
    """`{unit} pairs lo … hi, median m`, as percentages."""
    return f"{unit} pairs {min(costs):.0%} … {max(costs):.0%}, median {statistics.median(costs):.0%}"
