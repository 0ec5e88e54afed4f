"""The edge's upload document answered without graphql-core gives exactly the general path's answers."""

import uuid
from datetime import timedelta

import httpx
from graphql import parse, print_ast

from db.clock import utcnow
from db.wire import UPLOAD_READINGS_DOCUMENT
from tests.api.conftest import new_site
from tests.api.test_edge import readings

FAST = print_ast(parse(UPLOAD_READINGS_DOCUMENT))  # what the edge agent (gql) sends
GENERAL = UPLOAD_READINGS_DOCUMENT + "\n# any other text of the same document takes the general path\n"


async def post(url: str, key: str | None, query: str, batch: dict) -> httpx.Response:
    """One uploadReadings request as raw HTTP."""
    headers = {"X-API-Key": key} if key else {}
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, json={"query": query, "variables": {"batch": batch}}, headers=headers)


async def uploads_by_path(url: str) -> dict[str, float]:
    """meterit_uploads_total of the server's /metrics, by path."""
    async with httpx.AsyncClient(timeout=30) as client:
        text = (await client.get(url.replace("/graphql", "/metrics"))).text
    counts = {"fast": 0.0, "graphql": 0.0}
    for line in text.splitlines():
        if line.startswith("meterit_uploads_total{"):
            counts[line.split('path="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
    return counts


async def test_fast_and_general_paths_answer_every_kind_of_batch_alike(central, central_pg_url):
    start = utcnow().replace(microsecond=0) - timedelta(hours=3)
    bad = {**readings("m-1", 1, start)[0], "value": "NaN?"}
    batches = [
        ("new", readings("m-1", 30, start)),
        ("new", readings("m-1", 30, start)),  # the same batch id again: replayed
        ("overlap", readings("m-1", 40, start) + readings("m-2", 5, start, point="power_kw")),
        ("mixed", readings("m-1", 3, start + timedelta(hours=1)) + [bad]),  # general path on both
        ("", readings("m-1", 1, start)),  # empty batch id: UploadRejected
        ("too-big", readings("m-3", 5001, start - timedelta(days=4))),  # over BATCH_SIZE: UploadRejected
    ]
    (_, fast_key), (_, general_key) = await new_site(central_pg_url), await new_site(central_pg_url)
    before = await uploads_by_path(central.url)
    for batch_id, items in batches:
        batch = {"batchId": batch_id, "readings": items}
        fast = await post(central.url, fast_key, FAST, batch)
        general = await post(central.url, general_key, GENERAL, batch)
        assert fast.status_code == general.status_code == 200
        assert fast.json() == general.json(), batch_id
    after = await uploads_by_path(central.url)
    assert after["fast"] - before["fast"] == 5  # every batch but the mixed one
    assert after["graphql"] - before["graphql"] == 7
    answers = [
        (await post(central.url, fast_key, FAST, {"batchId": b, "readings": i})).json() for b, i in batches
    ]
    kinds = [a["data"]["uploadReadings"]["__typename"] for a in answers]
    assert kinds == ["UploadResult"] * 4 + ["UploadRejected"] * 2
    assert answers[2]["data"]["uploadReadings"]["replayed"] is True


async def test_the_edge_document_without_a_key_is_still_http_401(central):
    batch = {"batchId": uuid.uuid4().hex, "readings": readings("m-1", 1, utcnow())}
    response = await post(central.url, None, FAST, batch)
    assert response.status_code == 401


def test_limits_that_refuse_the_document_leave_it_to_the_general_path():
    from api.ingest.fast import edge_upload_queries
    from api.schema.root import build_schema
    from api.settings import CentralSettings

    assert edge_upload_queries(build_schema(CentralSettings())) == {FAST, UPLOAD_READINGS_DOCUMENT}
    assert edge_upload_queries(build_schema(CentralSettings(max_query_depth=1))) == frozenset()
