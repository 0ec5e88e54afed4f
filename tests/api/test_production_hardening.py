"""Production mode: no GraphiQL, no introspection, security headers, errors without internals."""

import httpx
import pytest

from api.metrics_auth import metrics_refusal
from api.schema.root import build_schema
from api.settings import CentralSettings

SECRET = "a production secret of at least thirty-two characters"
INTROSPECT = {"query": "{ __schema { queryType { name } } }"}
METRICS_TOKEN = "a metrics token for the scraper"


@pytest.fixture(scope="module")
def production(central_pg_url, tmp_path_factory):
    """A central server started with ENVIRONMENT=production."""
    from tests.support.central_server import CentralServer

    log = tmp_path_factory.mktemp("prod") / "central.log"
    env = {"ENVIRONMENT": "production", "JWT_SECRET": SECRET, "METRICS_TOKEN": METRICS_TOKEN}
    with CentralServer(central_pg_url, env=env, log_path=log, args=["--no-migrate"]) as server:
        yield server


def test_production_serves_no_graphiql_and_refuses_introspection(production):
    page = httpx.get(production.url, headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()
    answer = httpx.post(production.url, json=INTROSPECT, timeout=30).json()
    assert "introspection has been disabled" in answer["errors"][0]["message"]
    assert httpx.post(production.url, json={"query": "{ me { id } }"}, timeout=30).json() == {
        "data": {"me": None}
    }


def test_production_answers_carry_security_headers(production):
    for response in (
        httpx.get(production.base_url + "/healthz", timeout=30),
        httpx.post(production.url, json={"query": "{ me { id } }"}, timeout=30),
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["strict-transport-security"].startswith("max-age=")


def test_development_keeps_graphiql_and_introspection(central):
    page = httpx.get(central.url, headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    answer = httpx.post(central.url, json=INTROSPECT, timeout=30).json()
    assert answer["data"]["__schema"]["queryType"]["name"] == "Query"
    assert "strict-transport-security" not in page.headers
    assert page.headers["x-frame-options"] == "DENY"


def test_unexpected_errors_lose_their_internals_outside_development():
    production = build_schema(CentralSettings(environment="production", jwt_secret=SECRET))
    development = build_schema(CentralSettings())
    # a resolver that fails unexpectedly (no context): the text would name code internals
    assert [e.message for e in production.execute_sync("{ me { id } }", context_value=None).errors] == [
        "internal error"
    ]
    assert "NoneType" in development.execute_sync("{ me { id } }", context_value=None).errors[0].message


def test_production_metrics_need_the_bearer_token(production):
    url = production.base_url + "/metrics"
    assert httpx.get(url, timeout=30).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
    scraped = httpx.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
    assert scraped.status_code == 200 and "meterit_" in scraped.text
    # without a token configured, production serves no metrics at all; development serves them openly
    prod = CentralSettings(_env_file=None, environment="production", jwt_secret=SECRET)
    assert metrics_refusal(prod, None)[0] == 403
    assert metrics_refusal(CentralSettings(_env_file=None), None) is None
