"""Monthly report e-mails: sent once on the 1st for the month before, by any number of workers, recorded."""

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.alerts.notifier import EmailNotifier
from api.alerts.settings import AlertSettings
from api.services.report_mail import month_bounds, send_due_reports
from api.settings import CentralSettings
from db.central.models import DataPoint
from db.central.report_schedules import add_schedule, remove_schedule
from db.clock import clock
from db.engine import session_scope
from tests.support.energy import Db, ingest, make_point
from tests.support.smtp import SmtpSink

ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
def db(central_pg_url):
    """The session's migrated PostgreSQL central database on a loop of its own."""
    database = Db(central_pg_url)
    yield database
    database.close()


@pytest.fixture
def sink():
    """A real SMTP server on 127.0.0.1."""
    server = SmtpSink().start()
    yield server
    server.stop()


async def schedule_for(db: Db, point: int, recipients: list[str]):
    """A schedule of the point's site, made now (the clock's now)."""
    async with session_scope(db.sessions) as session:
        meter_site = (await session.get(DataPoint, point)).meter_id
        from db.central.models import Meter

        site_id = (await session.get(Meter, meter_site)).site_id
        return await add_schedule(session, recipients, [site_id], ZONE, "admin@example.test")


def test_the_previous_month_is_mailed_once_on_the_first(db, hand_clock, sink):
    local = hand_clock.now().astimezone(ZoneInfo(ZONE))
    month = local.date().replace(day=1)
    start, end = month_bounds(month, ZONE)
    point = db.run(make_point(db, timezone=ZONE))
    hours = int((end - start).total_seconds() // 3600)
    db.run(ingest(db, point, [(start + timedelta(hours=h), 1000.0 + 2 * h, 0) for h in range(hours + 1)]))
    tag = uuid.uuid4().hex[:8]  # schedules of the other dated runs share the database and send too
    recipients = [f"energy-{tag}@example.test", f"cfo-{tag}@example.test"]
    schedule = db.run(schedule_for(db, point, recipients))
    settings = CentralSettings(smtp_host=sink.host, smtp_port=sink.port, smtp_from="meterit@example.test")
    notifier = EmailNotifier(settings, AlertSettings())

    def send_twice() -> list:  # two API workers at the same moment; the messages to this schedule
        async def both():
            await asyncio.gather(
                *(send_due_reports(db.sessions, notifier, settings.smtp_from) for _ in range(2))
            )

        db.run(both())
        return [(to, msg) for to, msg in sink.inbox if set(to) == set(recipients)]

    assert send_twice() == []  # made during this month: its first report is this month's, on the 1st
    first_of_next = datetime.combine(
        end.astimezone(ZoneInfo(ZONE)).date(), time(0, 30), tzinfo=ZoneInfo(ZONE)
    )
    hand_clock.advance((first_of_next.astimezone(UTC) - clock().now()).total_seconds())
    assert len(send_twice()) == 1
    mine = send_twice()  # after a restart too: the month is recorded
    assert len(mine) == 1 and f"report {month:%Y-%m}" in mine[0][1]["Subject"]
    to, message = mine[0]
    attachment = next(p for p in message.iter_attachments() if p.get_filename().endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert {r["site_id"] for r in rows} == {str(schedule.site_ids[0])}
    assert len(rows) == (end.astimezone(ZoneInfo(ZONE)).date() - month).days  # one row per local day
    assert sum(float(r["energy_kwh"]) for r in rows if r["energy_kwh"]) == pytest.approx(2 * hours, abs=0.01)
    db.run(_forget(db, schedule.id))  # the other dated runs share the database


async def _forget(db: Db, schedule_id: int) -> None:
    async with session_scope(db.sessions) as session:
        await remove_schedule(session, schedule_id)
