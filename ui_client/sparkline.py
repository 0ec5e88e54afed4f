"""A small inline SVG line of today's power on a site card (no chart library: 1,000 cards stay light)."""

import reflex as rx

from ui_client.fleet_format import SPARK_H, SPARK_W


def sparkline(points, area, label) -> rx.Component:
    """The polyline of precomputed points over its shaded area, with its peak as text beside it."""
    return rx.hstack(
        rx.el.svg(
            rx.el.svg.polygon(points=area, fill="var(--accent-4)", stroke="none"),
            rx.el.svg.polyline(
                points=points,
                fill="none",
                stroke="var(--accent-9)",
                stroke_width="1.5",
                stroke_linejoin="round",
            ),  # fmt: skip
            width=str(SPARK_W),
            height=str(SPARK_H),
            view_box=f"0 0 {SPARK_W} {SPARK_H}",
            role="img",
            aria_label=label,
            data_testid="sparkline",
            border_bottom="1px solid var(--gray-6)",
        ),
        rx.text(label, size="1", color_scheme="gray", data_testid="sparkline-peak"),
        align="end",
        spacing="2",
    )
