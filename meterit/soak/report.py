"""The soak's printed report: faults as they happened, then the figures and the verdict."""

from datetime import datetime, timedelta

from meterit.soak.schedule import KINDS
from meterit.soak.verdict import Verdict, alerts_for


def print_report(soak, faults, v: Verdict, echo=print) -> None:
    """Print what was injected, what each fault raised, and the figures."""
    events = soak.log.items
    echo("")
    echo(f"=== meterit soak: {soak.seconds / 60:g} min, seed {soak.seed} ===")
    echo("faults injected (from events.jsonl):")
    done = [e for e in events if e["kind"] in ("fault", "skipped") and e.get("fault")]
    for kind in KINDS:
        hits = [e for e in done if e["fault"] == kind]
        happened = [e for e in hits if e["kind"] == "fault"]
        label = f"{len(happened)}x" if happened else ("SKIPPED" if hits else "not planned")
        echo(f"  {kind:22} {label}")
        for e in happened:
            start = datetime.fromisoformat(e["at"])
            span = next((f.duration for f in faults if f.kind == kind), 0.0)
            tail = min(60.0, max(5.0, soak.seconds / 10))  # alerts that follow a fault by up to a minute
            raised = alerts_for(v.alerts, start, start + timedelta(seconds=span), tail)
            echo(
                f"      t={e['t']:7.1f}s {e['what']}" + (f"  [alerts: {'; '.join(raised)}]" if raised else "")
            )
    echo(
        f"  bad values: meter-100 served {v.served_non_finite} non-finite values; refused at collection: "
        f"{v.refused_at_collection}; implausible 3.4e38 kept with bad quality in central: {v.implausible_kept_bad}"
    )
    echo(
        f"  daylight saving: edge-b readings before/after {v.dst['change_utc']}: "
        f"{v.dst['readings_before']}/{v.dst['readings_after']} (crossed: {v.dst['crossed']})"
    )
    echo("figures:")
    echo(f"  distinct values served by meters      {v.served_values}")
    echo(f"  readings committed at the edges      {v.committed_at_edges}")
    echo(f"  readings in central                  {v.in_central}")
    echo(f"  LOST (committed, not in central nor dead-lettered)   {v.lost}")
    echo(f"  DUPLICATED (rows in central beyond distinct)         {v.duplicated}")
    echo(f"  INVENTED (in central, not committed or not served)   {v.invented}")
    echo(f"  served but never committed, by cause  {v.served_not_committed or 'none'}")
    echo(f"  dead letters by reason               {v.dead_letters or 'none'}")
    echo(
        "  time to drain after the last fault   "
        + (f"{v.drain_seconds:.1f} s" if v.drain_seconds is not None else "DID NOT DRAIN")
    )
    echo(f"  edge databases integrity_check       {v.integrity}")
    echo(f"  alerts ({len(v.alerts)} log/table entries), by where and kind:")
    groups: dict = {}
    for a in v.alerts:
        groups.setdefault((a["where"], a["kind"]), []).append(a)
    for (where, kind), items in sorted(groups.items()):
        states = {s: sum(1 for a in items if a["state"] == s) for s in ("raised", "resolved", "open")}
        echo(f"    {where:8} {kind:22} {states}  first {items[0]['at'][11:19]}: {items[0]['line'][:90]}")
    for name, keys in v.examples.items():
        if keys:
            echo(f"  examples {name}: {keys}")
    echo(
        f"VERDICT: {'PASS' if v.ok else 'FAIL'} (lost {v.lost}, duplicated {v.duplicated}, invented {v.invented})"
    )
