"""Small building blocks of the alerting pages."""

import reflex as rx


def picker(options, value, on_change, testid: str) -> rx.Component:
    """A drop-down in a box carrying the test id (Radix's select does not pass it on to its trigger)."""
    return rx.box(rx.select(options, value=value, on_change=on_change), data_testid=testid)
