"""The energy CSV export streams the energy query's buckets, then a total row, behind the API's auth."""

import csv
import io
import uuid
from datetime import timedelta

import httpx
import pytest

from api.app import create_app
from api.auth import issue_token
from api.settings import CentralSettings
from db.central.grants import set_grant
from db.central.models import DataPoint, Meter
from db.central.tariffs import make_tariff, set_tariff
from db.central.users import create_user
from db.clock import clock
from db.engine import session_scope
from tests.support.energy import Db, ingest, make_point

DAYS = 8  # 11,520 one-minute readings: more than one export page at 15 minutes


@pytest.fixture(scope="module")
def setup(central_pg_url):
    """A point read every minute for DAYS days (1 kWh a minute), a tariff, a viewer token and the app."""
    db = Db(central_pg_url)
    start = clock().now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DAYS + 1)
    point = db.run(make_point(db, timezone="America/New_York"))
    db.run(ingest(db, point, [(start + timedelta(minutes=n), float(n), 0) for n in range(DAYS * 1440 + 1)]))
    settings = CentralSettings(database_url=central_pg_url)

    async def _user_meter_tariff():
        async with session_scope(db.sessions) as session:
            user = await create_user(
                session, f"exe-{uuid.uuid4().hex[:6]}@example.com", "long password 1", "viewer"
            )
            meter = await session.get(Meter, (await session.get(DataPoint, point)).meter_id)
            await set_tariff(session, meter.site_id, make_tariff("USD", 0.5))
            await set_grant(session, user.id, meter.site_id, "viewer")
            return issue_token(settings, user)[0], meter.id

    token, meter_id = db.run(_user_meter_tariff())
    yield db, start, meter_id, token, create_app(settings)
    db.close()


async def _export(app, token: str | None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/export/energy.csv", params=params, headers=headers)


@pytest.mark.parametrize("resolution", ["QUARTER_HOUR", "HOUR", "DAY", "MONTH"])
def test_energy_csv_adds_up_to_the_register(setup, resolution):
    db, start, meter_id, token, app = setup
    params = {
        "meterId": meter_id,
        "point": "total_kwh",
        "start": start.isoformat(),
        "end": (start + timedelta(days=DAYS)).isoformat(),
        "resolution": resolution,
    }
    response = db.run(_export(app, token, **params))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    *buckets, total = rows
    assert total["start"] == "total" and total["currency"] == "USD"
    assert float(total["consumption"]) == pytest.approx(DAYS * 1440)
    assert float(total["cost"]) == pytest.approx(DAYS * 1440 * 0.5)
    assert float(total["consumption"]) == pytest.approx(sum(float(b["consumption"] or 0) for b in buckets))
    assert {b["quality"] for b in buckets} <= {"good", "uncertain"}
    if resolution == "QUARTER_HOUR":
        assert len(buckets) == DAYS * 96  # the reading at the end opens no bucket: end is exclusive


def test_energy_csv_refuses_bad_queries(setup):
    db, start, meter_id, token, app = setup
    good = {"meterId": meter_id, "point": "total_kwh", "start": start.isoformat(), "end": start.isoformat()}
    assert db.run(_export(app, None, **good)).status_code == 401
    assert db.run(_export(app, token, **{**good, "point": "nope"})).status_code == 404
    assert db.run(_export(app, token, **{**good, "resolution": "WEEK"})).status_code == 400
    bad = db.run(_export(app, token, **good))
    assert bad.status_code == 400 and "end" in bad.text
