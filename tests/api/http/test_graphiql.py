"""GraphiQL at GET /graphql loads and runs a query in headless Chromium with every non-loopback request blocked."""

from urllib.parse import quote, urlparse

import pytest
from strawberry.http.ides import get_graphql_ide_html

from api.http.graphiql import missing_assets
from tests.support.browser import launch_browser, new_page, screenshot


def test_vendored_assets_cover_the_page():
    assert missing_assets(get_graphql_ide_html("graphiql")) == []


@pytest.mark.browser
def test_graphiql_runs_a_query_offline(central):
    blocked: list[str] = []

    def only_loopback(route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with launch_browser() as browser:
        page = new_page(browser)
        page.route("**/*", only_loopback)
        page.goto(central.url + "?q=" + quote("{ me { id } }"))  # "q" pre-fills the editor
        page.locator(".graphiql-execute-button").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.result-window')]"
            ".some(e => /\"me\":\\s*null/.test(e.textContent.replace(/\\u00a0/g, ' ')))"
        )
        screenshot(page, "api-graphiql-offline")
    assert blocked == []


@pytest.mark.browser
def test_graphiql_login_bar_puts_the_token_in_the_headers(central, central_pg_url):
    import asyncio

    from tests.api.conftest import PASSWORD, new_user

    email = asyncio.run(new_user(central_pg_url, "viewer"))
    with launch_browser() as browser:
        page = new_page(browser)
        page.goto(central.url)
        page.get_by_placeholder("Email").fill(email)
        page.get_by_placeholder("Password").fill("wrong password")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("status").filter(has_text="wrong").or_(
            page.get_by_role("status").filter(has_text="invalid")
        ).wait_for()
        page.get_by_placeholder("Email").fill(email)
        page.get_by_placeholder("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**headers=**")
        page.locator(".graphiql-execute-button").click()  # the welcome query: the fleet overview
        screenshot(page, "api-graphiql-logged-in")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.result-window')]"
            ".some(e => /\"total\":\\s*\\d+/.test(e.textContent.replace(/\\u00a0/g, ' ')))"
        )
        screenshot(page, "api-graphiql-logged-in")
