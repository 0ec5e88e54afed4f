"""The span of a site's simulated (demo) readings, as heartbeats report it: widened, kept when no longer sent."""

from datetime import timedelta

from db.central.site_status import SIMULATED_FROM, SIMULATED_UNTIL, keep_simulated_span
from db.clock import utcnow


def test_the_widest_span_is_kept_and_survives_heartbeats_without_it():
    end = utcnow()
    first = {SIMULATED_FROM: (end - timedelta(days=30)).isoformat(), SIMULATED_UNTIL: end.isoformat()}
    assert keep_simulated_span({}, {"queue_depth": 0}) == {"queue_depth": 0}  # never simulated: nothing added
    kept = keep_simulated_span(
        first, {"queue_depth": 3}
    )  # the edge stopped telling (e.g. a new edge database)
    assert kept == {"queue_depth": 3, **first}
    later = {
        SIMULATED_FROM: (end - timedelta(days=2)).isoformat(),
        SIMULATED_UNTIL: (end + timedelta(days=1)).isoformat(),
    }
    assert keep_simulated_span(kept, later) == {
        SIMULATED_FROM: first[SIMULATED_FROM],
        SIMULATED_UNTIL: later[SIMULATED_UNTIL],
    }
