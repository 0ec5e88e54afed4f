"""Login page: asks for the agent's local password (always required, printed at the agent's first start)."""

import reflex as rx

from ui_edge import queries
from ui_edge.errors import UiEdgeError
from ui_edge.state import EdgeState


class LoginState(EdgeState):
    """The password form."""

    password: str = ""
    login_error: str = ""

    @rx.event
    def set_password(self, value: str):
        """The typed password."""
        self.password = value

    @rx.event
    async def submit(self):
        """Trade the password for a token and go to the dashboard."""
        try:
            result = (await self._gql(queries.LOGIN, {"password": self.password}))["login"]
        except UiEdgeError as err:
            self.login_error = str(err)
            return
        self.password = ""
        if result["__typename"] != "LoginSuccess":
            self.login_error = (
                "No login needed." if result["reason"] == "no login needed" else "Wrong password."
            )
            if result["reason"] == "no login needed":
                yield rx.redirect("/")
            return
        self.token = result["token"]
        self.login_error = ""
        self.login_required = False
        yield rx.redirect("/")


def login_page() -> rx.Component:
    """The password form."""
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("MeterIT on site", size="5"),
                    rx.text("This agent's local API asks for its password.", size="2", color_scheme="gray"),
                    rx.input(
                        type="password",
                        value=LoginState.password,
                        on_change=LoginState.set_password,
                        placeholder="Local password",
                        data_testid="password",
                    ),  # fmt: skip
                    rx.button("Log in", type="submit", data_testid="login"),
                    rx.cond(
                        LoginState.login_error != "", rx.text(LoginState.login_error, color_scheme="red")
                    ),
                    spacing="3",
                ),
                on_submit=LoginState.submit,
            ),
            width="22em",
        ),
        padding_top="10vh",
    )
