"""Monthly report e-mails: on the 1st (schedule's zone) the previous month's report goes to its recipients.

A background task of every API worker (api/app.py) reads the injectable clock every minute. For each
schedule whose month is over, one transaction records the month as sent (db.central.report_schedules.claim_month:
the key (schedule, month) lets one worker through, the others find the row) and sends the report through
the alert e-mail notifier; a failed send rolls the record back, so the next round tries again. A schedule
made during a month starts with that month. The report is api.services.reports.generate_report's (the service
layer every dashboard report uses), as CSV and HTML attachments with a Markdown text body.
"""

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.alerts.errors import EmailError
from api.alerts.notifier import EmailNotifier
from api.alerts.settings import get_alert_settings
from api.errors import ApiError
from api.services.access import ADMIN
from api.services.report_formats import to_csv, to_html, to_markdown
from api.services.reports import generate_report
from api.settings import CentralSettings
from db.central.report_schedules import ReportSchedule, claim_month, list_schedules
from db.clock import clock
from db.engine import session_scope

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 60.0


def month_bounds(month: date, timezone: str) -> tuple[datetime, datetime]:
    """UTC instants of the local midnights starting the month and the next one."""
    zone = ZoneInfo(timezone)
    following = (month.replace(day=1) + timedelta(days=32)).replace(day=1)
    start = datetime.combine(month.replace(day=1), time(0), tzinfo=zone)
    return start.astimezone(ZoneInfo("UTC")), datetime.combine(following, time(0), tzinfo=zone).astimezone(
        ZoneInfo("UTC")
    )


def due_month(schedule: ReportSchedule, now: datetime) -> date | None:
    """The month to send now: the one before the current local month, if the schedule existed before it ended."""
    this_month = now.astimezone(ZoneInfo(schedule.timezone)).date().replace(day=1)
    previous = (this_month - timedelta(days=1)).replace(day=1)
    _, ended = month_bounds(previous, schedule.timezone)
    return previous if schedule.created_at < ended else None


def report_message(schedule: ReportSchedule, month: date, report, sender: str) -> EmailMessage:
    """The e-mail of one month's report: Markdown body, HTML alternative, CSV and HTML attachments."""
    label = month.strftime("%Y-%m")
    message = EmailMessage()
    message["Subject"] = f"MeterIT energy report {label}"
    message["From"] = sender
    message["To"] = ", ".join(schedule.recipients)
    message.set_content(to_markdown(report))
    html = to_html(report)
    message.add_alternative(html, subtype="html")
    message.add_attachment(
        to_csv(report).encode(), maintype="text", subtype="csv", filename=f"report-{label}.csv"
    )
    message.add_attachment(html.encode(), maintype="text", subtype="html", filename=f"report-{label}.html")
    return message


async def send_due_reports(
    sessions: async_sessionmaker[AsyncSession], notifier: EmailNotifier, sender: str
) -> int:
    """Send every schedule's due month not sent yet; returns how many reports this call sent."""
    async with session_scope(sessions) as session:
        schedules = await list_schedules(session)
    now, sent = clock().now(), 0
    for schedule in schedules:
        month = due_month(schedule, now)
        if month is None:
            continue
        try:
            async with session_scope(sessions) as session:
                if not await claim_month(session, schedule.id, month):
                    continue
                start, end = month_bounds(month, schedule.timezone)
                # Schedules are an admin's (reportSchedules is admin only): the report covers the sites the admin chose.
                report = await generate_report(session, schedule.site_ids, start, end, "DAY", scope=ADMIN)
                await notifier.deliver(report_message(schedule, month, report, sender))
            sent += 1
            logger.info(
                "report %s of schedule %d sent to %d recipients", month, schedule.id, len(schedule.recipients)
            )
        except (EmailError, ApiError) as err:  # the claim is rolled back with the transaction: tried again
            logger.warning("report %s of schedule %d not sent: %s", month, schedule.id, err)
    return sent


async def run_report_mailer(
    sessions: async_sessionmaker[AsyncSession],
    notifier: EmailNotifier,
    sender: str,
    interval: float = INTERVAL_SECONDS,
) -> None:
    """Send due monthly reports until cancelled."""
    while True:
        try:
            await send_due_reports(sessions, notifier, sender)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be restarting: try again next round
            logger.exception("report mailer round failed")
        await asyncio.sleep(interval)


def start_report_mailer(settings: CentralSettings, sessions: async_sessionmaker[AsyncSession]):
    """The mailer's task, or None when e-mail is off (SMTP_HOST unset)."""
    if not settings.smtp_host:
        logger.info("SMTP_HOST not set: monthly report e-mails are off")
        return None
    notifier = EmailNotifier(settings, get_alert_settings())
    return asyncio.get_running_loop().create_task(
        run_report_mailer(sessions, notifier, settings.smtp_from), name="report-mailer"
    )
