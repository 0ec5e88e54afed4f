"""Page building blocks both dashboards use: frame, top bar, banners, badges, stats, tables, charts."""

import reflex as rx


def nav_link(text: str, href: str, testid: str | None = None) -> rx.Component:
    """A link in the top bar."""
    return rx.link(text, href=href, size="3", weight="medium", data_testid=testid)


def top_bar(name: str, *items) -> rx.Component:
    """The top bar: the dashboard's name, then its links and what it shows on the right."""
    return rx.flex(
        rx.heading(name, size="5"),
        *items,
        align="center",
        spacing="4",
        wrap="wrap",
        padding="0.75em 1.5em",
        border_bottom="1px solid var(--gray-5)",
        width="100%",
    )


def frame(top: rx.Component, title: str, *children, max_width: str) -> rx.Component:
    """A page: the top bar, then the title and the content in a centred column."""
    return rx.box(
        top,
        rx.vstack(
            rx.heading(title, size="6"),
            *children,
            spacing="4",
            padding="1.5em",
            width="100%",
            max_width=max_width,
            margin="0 auto",
        ),
        width="100%",
    )


def error_banner(message, on_dismiss, icon: str = "triangle_alert") -> rx.Component:
    """The page's error, if any, with a button to hide it."""
    return rx.cond(
        message != "",
        rx.callout(
            rx.hstack(
                rx.text(message),
                rx.button("Dismiss", size="1", variant="ghost", on_click=on_dismiss),
            ),
            icon=icon,
            color_scheme="red",
            data_testid="error-banner",
            width="100%",
        ),
    )


def badge(text, color, testid: str) -> rx.Component:
    """A small solid badge."""
    return rx.badge(text, color_scheme=color, variant="solid", data_testid=testid)


def empty_state(text, testid: str = "empty-state") -> rx.Component:
    """What a list shows when it has nothing yet."""
    return rx.center(rx.text(text, color_scheme="gray"), padding="2em", data_testid=testid)


def stat(label: str, value, testid: str, size: str = "7") -> rx.Component:
    """A labelled value on a card: large for a page's headline counts, small for a strip of many."""
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size=size, data_testid=testid),
            spacing="1",
        ),
        min_width="9em",
    )


def select(options, value, on_change, testid: str, placeholder: str | None = None) -> rx.Component:
    """A drop-down bound to a state value and its setter."""
    return rx.select(options, value=value, on_change=on_change, placeholder=placeholder, data_testid=testid)


def panel(title: str, *children) -> rx.Component:
    """A titled card across the page."""
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"),
        width="100%",
    )


def table(headers, rows, row_fn, testid: str | None = None, size: str = "2") -> rx.Component:
    """A table with a header row and one row per item, scrolling sideways when the page is too narrow."""
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, row_fn)),
            width="100%",
            size=size,
            data_testid=testid,
        ),
        overflow_x="auto",
        width="100%",
    )


def axis_label(text, vertical: bool = False) -> dict:
    """A recharts axis label: the unit beside the y axis, the time zone under the x axis."""
    if vertical:
        return {"value": text, "angle": -90, "position": "insideLeft", "style": {"textAnchor": "middle"}}
    return {"value": text, "position": "insideBottom", "offset": -4}


def simulated_area(band) -> rx.Component:
    """An orange band labelled 'simulated' between two x labels (a [first, last] Var; ['', ''] shows nothing)."""
    shown = band[0] != ""
    return rx.recharts.reference_area(
        rx.recharts.label(value=rx.cond(shown, "simulated", ""), position="insideTop", fill="#c2410c"),
        x1=band[0],
        x2=band[1],
        if_overflow="discard",
        fill="#f97316",
        fill_opacity=rx.cond(shown, 0.15, 0.0),
        stroke="none",
    )


def line_chart(
    data, data_key: str, color: str, height: int, auto_scale: bool = False, y_label="", x_label="", band=None
) -> rx.Component:
    """A line of {t, data_key} points, without animation or dots; axes labelled with unit and time zone; an
    optional band ([first, last] x labels) marked 'simulated'."""
    extra = [simulated_area(band)] if band is not None else []
    return rx.recharts.line_chart(
        *extra,
        rx.recharts.line(data_key=data_key, is_animation_active=False, dot=False, stroke=color),
        # With a band, x labels are unique (ui_common.format.unique_labels): recharts then places the band's
        # edges by label; with a repeated label it would index the axis and the band would collapse.
        rx.recharts.x_axis(
            data_key="t",
            min_tick_gap=32,
            label=axis_label(x_label),
            height=40,
            allow_duplicated_category=band is None,
        ),
        rx.recharts.y_axis(
            domain=["auto", "auto"] if auto_scale else None,
            width=70,
            label=axis_label(y_label, vertical=True),
        ),
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.graphing_tooltip(),
        data=data,
        width="100%",
        height=height,
    )
