"""Login page: email and password give a JWT kept in the browser tab's session."""

import reflex as rx

from causes import Cause, text
from ui_client import api, queries
from ui_client.errors import ApiUnreachable, UiClientError
from ui_client.state import SessionState


class LoginState(SessionState):
    """The login form."""

    form_email: str = ""
    form_password: str = ""
    login_error: str = ""
    busy: bool = False

    @rx.event
    def set_form_email(self, value: str):
        """Update the email field."""
        self.form_email = value

    @rx.event
    def set_form_password(self, value: str):
        """Update the password field."""
        self.form_password = value

    @rx.event
    def open_page(self):
        """Skip the form when already signed in."""
        if not self._expired():
            return rx.redirect("/")
        return None

    @rx.event
    async def submit(self):
        """Ask the central API for a token."""
        self.login_error = ""
        if not self.form_email or not self.form_password:
            self.login_error = "Enter your email and password."
            return
        self.busy = True
        yield
        try:
            data = await api.CENTRAL.execute(
                queries.LOGIN, {"email": self.form_email.strip(), "password": self.form_password}
            )
        except ApiUnreachable:
            self.login_error = f"{text(Cause.CENTRAL_UNREACHABLE)} Try again in a moment."
            return
        except UiClientError as err:
            self.login_error = str(err)
            return
        finally:
            self.busy = False
        result = data.get("login") or {}
        if result.get("__typename") != "LoginSuccess":
            self.login_error = result.get("reason") or "Wrong email or password."
            return
        self.token = result["token"]
        self.expires_at = result.get("expiresAt") or ""
        self.email = result["user"]["email"]
        self.role = result["user"]["role"]
        self.form_password = ""
        self.notice = ""
        self.error = ""
        yield rx.redirect("/")


def login_page() -> rx.Component:
    """The login form."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("MeterIT central", size="6"),
                rx.cond(LoginState.notice != "", rx.text(LoginState.notice, color_scheme="gray")),
                rx.input(
                    placeholder="Email",
                    value=LoginState.form_email,
                    on_change=LoginState.set_form_email,
                    name="email",
                    type="email",
                    width="100%",
                ),
                rx.input(
                    placeholder="Password",
                    value=LoginState.form_password,
                    on_change=LoginState.set_form_password,
                    name="password",
                    type="password",
                    width="100%",
                ),
                rx.cond(
                    LoginState.login_error != "",
                    rx.text(LoginState.login_error, color_scheme="red", data_testid="login-error"),
                ),
                rx.button("Sign in", on_click=LoginState.submit, loading=LoginState.busy, width="100%"),
                spacing="3",
                width="100%",
            ),
            width="22em",
            max_width="92vw",
        ),
        height="100vh",
    )
