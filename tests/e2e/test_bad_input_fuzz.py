"""Fuzzed bad input against the real central API: no 5xx, a clear error each time, no partial write."""

import asyncio
import json
import math
import random
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db.central.sites import create_site
from db.clock import utcnow
from db.engine import make_engine, make_sessionmaker, session_scope
from db.migrate import upgrade
from tests.support.central_server import CentralServer
from tests.support.figures import report

UPLOAD = """mutation Upload($batch: ReadingBatchInput!) { uploadReadings(batch: $batch) {
  __typename ... on UploadResult { batchId new duplicates rejected replayed rejections { index reason } }
  ... on UploadRejected { reason } } }"""
EXAMPLES = settings(
    max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
TRIED = {"count": 0}


@pytest.fixture(scope="module")
def api(new_pg_database_module, tmp_path_factory):
    """A real central server on a fresh PostgreSQL database, with a site key and generous rate limits."""
    url = new_pg_database_module
    upgrade("central", url)
    key = asyncio.run(_create_site(url))
    log = tmp_path_factory.mktemp("fuzz") / "central.log"
    # wrong keys are limited per client address (tests/api/http/test_site_key_limits.py): not what this fuzzes
    env = {"RATE_LIMIT_PER_MINUTE": "100000", "FAILED_KEY_LIMIT_PER_MINUTE": "100000"}
    server = CentralServer(url, env=env, log_path=log).start()
    client = httpx.Client(base_url=server.base_url, timeout=30)
    yield {"client": client, "key": key, "db": url, "reported_new": [0]}
    client.close()
    server.stop()
    report(f"bad-input fuzz: {TRIED['count']} inputs tried, no 5xx, no partial write")


@pytest.fixture(scope="module")
def new_pg_database_module(pg_server):
    """One throwaway database for this module."""
    from tests.support.pg import create_database, drop_database

    name = f"meterit_fuzz_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_database(name))
    yield url
    asyncio.run(drop_database(name))


async def _create_site(url: str) -> str:
    engine = make_engine(url)
    async with session_scope(make_sessionmaker(engine)) as session:
        created = await create_site(session, "Fuzz site")
    await engine.dispose()
    return created.api_key


def _stored_count(url: str) -> int:
    async def _count() -> int:
        engine = make_engine(url)
        async with engine.connect() as conn:
            count = await conn.scalar(text("SELECT count(*) FROM readings"))
        await engine.dispose()
        return count

    return asyncio.run(_count())


def post(api, body: str | bytes, key: str | None = "own") -> httpx.Response:
    """POST a raw body to /graphql with the site key (or another/none)."""
    headers = {"Content-Type": "application/json"}
    if key == "own":
        headers["X-API-Key"] = api["key"]
    elif key is not None:
        headers["X-API-Key"] = key
    TRIED["count"] += 1
    return api["client"].post("/graphql", content=body, headers=headers)


def assert_clear(response: httpx.Response) -> dict | None:
    """No 5xx, and either a readable error or a GraphQL answer; return the JSON body when there is one."""
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400 and not response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        assert response.text.strip(), "an error status needs a readable body"
        return None
    body = response.json()
    for error in body.get("errors") or []:
        assert error.get("message"), body
    return body


def check_upload(api, body: dict | None, sent: int | None) -> None:
    """An UploadResult must add up; an UploadRejected must say why."""
    if not body or not body.get("data") or not body["data"].get("uploadReadings"):
        assert body is None or body.get("errors"), body
        return
    result = body["data"]["uploadReadings"]
    if result["__typename"] == "UploadRejected":
        assert result["reason"]
        return
    assert result["new"] + result["duplicates"] + result["rejected"] == sent
    assert all(r["reason"] for r in result["rejections"])
    if not result["replayed"]:
        api["reported_new"][0] += result["new"]


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Naive times straddle the clock's now on whatever day the tests run.
RECENT, LATEST = (utcnow().replace(tzinfo=None) + timedelta(days=d) for d in (-6 * 365, 3 * 365))
timestamps = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)).map(
        lambda d: d.isoformat()
    ),
    st.datetimes(min_value=RECENT, max_value=LATEST).map(lambda d: d.isoformat()),  # naive
    st.text(max_size=25),
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.text(max_size=5),
    st.none(),
)
reading = st.fixed_dictionaries(
    {
        "meter_external_id": st.one_of(st.text(max_size=120), st.integers(), st.none()),
        "data_point": st.one_of(st.sampled_from(["total_kwh", "current_kw"]), st.text(max_size=120)),
        "timestamp": timestamps,
        "value": values,
    },
    optional={
        "unit": st.one_of(st.text(max_size=50), st.none()),
        "quality": st.one_of(st.integers(-5, 5), st.text(max_size=3)),
        "extra": json_value,
    },
)


def good_reading(i: int) -> dict:
    """A valid reading a little in the past (so that duplicates across examples are rare)."""
    ts = utcnow() - timedelta(minutes=random.randint(1, 10**6), microseconds=i)
    return {
        "meter_external_id": "fuzz-meter",
        "data_point": "total_kwh",
        "timestamp": ts.isoformat(),
        "value": float(i),
    }


@EXAMPLES
@given(items=st.lists(st.one_of(reading, json_value), max_size=20), valid=st.integers(0, 5))
def test_fuzzed_batches_never_5xx_and_add_up(api, items, valid):
    readings = [good_reading(i) for i in range(valid)] + items
    random.Random(len(items)).shuffle(readings)
    payload = {"query": UPLOAD, "variables": {"batch": {"batchId": uuid.uuid4().hex, "readings": readings}}}
    # allow_nan: Python writes NaN/Infinity literals, which are not JSON: the server must say so, not crash
    body = assert_clear(post(api, json.dumps(payload, default=str)))
    check_upload(api, body, len(readings))
    assert _stored_count(api["db"]) == api["reported_new"][0], "stored rows differ from what was reported new"


@EXAMPLES
@given(batch=json_value)
def test_wrong_shaped_batches_are_refused_clearly(api, batch):
    payload = {"query": UPLOAD, "variables": {"batch": batch}}
    body = assert_clear(post(api, json.dumps(payload, default=str)))
    assert (
        body is None or body.get("errors") or body["data"]["uploadReadings"]["__typename"] == "UploadRejected"
    )


@EXAMPLES
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        json_value.map(lambda v: json.dumps(v).encode()),
    )
)
def test_garbage_bodies_get_a_clear_error(api, body):
    assert_clear(post(api, body))


@EXAMPLES
@given(
    key=st.one_of(
        st.none(), st.text(max_size=80).filter(lambda k: k.strip() == k and k.isprintable() and k.isascii())
    )
)
def test_wrong_keys_are_401(api, key):
    response = post(api, json.dumps({"query": "mutation { authenticateSite { siteId } }"}), key=key or None)
    assert response.status_code == 401 and response.text.strip()


@EXAMPLES
@given(depth=st.integers(13, 200))
def test_deep_queries_are_refused(api, depth):
    query = (
        "query { sites { meters { dataPoints { name "
        + "".join(" ... on DataPoint { name " for _ in range(depth))
        + "}" * depth
        + "} } } }"
    )
    body = assert_clear(post(api, json.dumps({"query": query})))
    assert body is None or body.get("errors")


def test_oversized_batch_is_refused_whole(api):
    before = _stored_count(api["db"])
    readings = [good_reading(i) for i in range(10_001)]
    body = assert_clear(
        post(
            api,
            json.dumps({"query": UPLOAD, "variables": {"batch": {"batchId": "big", "readings": readings}}}),
        )
    )
    assert (
        body is None or body.get("errors") or body["data"]["uploadReadings"]["__typename"] == "UploadRejected"
    )
    assert _stored_count(api["db"]) == before


def test_huge_body_is_413(api):
    response = post(api, b'{"query": "' + b"x" * (5 * 1024 * 1024) + b'"}')
    assert response.status_code == 413 and response.text.strip()


def test_nan_and_infinity_are_rejected_per_reading(api):
    readings = [good_reading(1), {**good_reading(2), "value": math.inf}, {**good_reading(3), "value": "NaN"}]
    body = assert_clear(
        post(
            api,
            json.dumps(
                {"query": UPLOAD, "variables": {"batch": {"batchId": uuid.uuid4().hex, "readings": readings}}}
            ),
        )
    )
    result = body["data"]["uploadReadings"]
    assert result["__typename"] == "UploadResult" and result["rejected"] == 2 and result["new"] == 1
    api["reported_new"][0] += 1
