"""`meterit bench ingest`'s COPY baselines hold the uploads' own readings, batch for batch."""

import json
from types import SimpleNamespace

from bench.ingest import copy_batches, make_bodies


def test_copy_batches_hold_the_uploads_readings_as_sent_and_as_stored():
    args = SimpleNamespace(readings=1_000, batch=70, points=40, sites=3)
    bodies = make_bodies(args.readings, args.batch, args.points, args.sites)
    uploads = {}  # (site, batch number) -> [(point, value)]
    for site, site_bodies in enumerate(bodies):
        for n, body in enumerate(site_bodies):
            items = json.loads(body)["variables"]["batch"]["readings"]
            uploads[(site, n)] = [
                (int(r["meter_external_id"][6:]) * 2 + (r["data_point"] == "power_kw"), r["value"])
                for r in items
            ]
    turns = [key for n in range(max(len(b) for b in bodies)) for key in sorted(uploads) if key[1] == n]
    as_sent, as_stored = copy_batches(args, ordered=False), copy_batches(args, ordered=True)
    assert len(as_sent) == len(as_stored) == len(uploads)
    for key, sent, stored in zip(turns, as_sent, as_stored, strict=True):  # the sites' batches in turn
        assert [(row[0] - 10**9, row[2]) for row in sent] == uploads[key]
        assert sorted((row[0] - 2 * 10**9, row[2]) for row in stored) == sorted(uploads[key])
        assert stored == sorted(stored, key=lambda row: row[:2])
        assert {row[1] for row in sent} == {row[1] for row in stored}
