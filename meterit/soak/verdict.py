"""The soak's verdict: served vs committed vs central vs dead letters, as set equality on readings."""

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from meterit.soak.site import SoakSite
from meterit.soak.truth import (
    central_readings,
    committed,
    dead_letters,
    integrity,
    log_lines,
    query,
    served_values,
    values_by_point,
)


@dataclass
class Verdict:
    """The figures a soak prints; `ok` is False on any loss, duplicate or invented reading."""

    served_values: int = 0
    served_non_finite: int = 0
    committed_at_edges: int = 0
    in_central: int = 0
    lost: int = 0
    duplicated: int = 0
    invented: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)
    refused_at_collection: dict[str, int] = field(default_factory=dict)
    implausible_kept_bad: int = 0
    served_not_committed: dict[str, int] = field(default_factory=dict)
    drain_seconds: float | None = None
    integrity: dict[str, str] = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)
    dst: dict = field(default_factory=dict)
    examples: dict[str, list] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing lost, duplicated or invented."""
        return self.lost == 0 and self.duplicated == 0 and self.invented == 0

    def to_json(self) -> dict:
        """JSON-ready figures."""
        return asdict(self) | {"ok": self.ok}


def judge(site: SoakSite, down: list[tuple[str, float, float]], stopped_at: float) -> Verdict:
    """Compare every record of the run; `down` = (edge, killed, restarted) system times."""
    v = Verdict()
    served = served_values(site.root / "served.jsonl", site.root / "meters.json")
    finite = [s for s in served if math.isfinite(s.value)]
    v.served_non_finite = len(served) - len(finite)
    distinct_served = {(s.meter, s.point, s.value) for s in finite}
    v.served_values = len(distinct_served)
    done: set = set()
    dead: dict = {}
    for edge in site.edges:
        done |= committed(edge.db)
        dead |= dead_letters(edge.db)
        v.integrity[edge.name] = integrity(edge.db)
    v.committed_at_edges = len(done)
    rows, quality = central_readings(site.db_url)
    central = set(rows)
    v.in_central = len(rows)
    v.duplicated = len(rows) - len(central)
    lost = done - central - set(dead)
    served_by_point = values_by_point(finite)
    invented = (central - done) | {k for k in central if k[3] not in served_by_point.get((k[0], k[1]), set())}
    v.lost, v.invented = len(lost), len(invented)
    v.examples = {"lost": sorted(lost)[:5], "invented": sorted(invented)[:5],
                  "duplicated": [k for k, n in Counter(rows).items() if n > 1][:5]}  # fmt: skip
    v.dead_letters = dict(Counter(_reason_kind(r) for r in dead.values()))
    v.implausible_kept_bad = sum(1 for k, q in quality.items() if abs(k[3]) > 1e15 and q == 2)
    edge_b = site.edge("edge-b")
    v.refused_at_collection = {
        "not a finite number (edge log)": len(log_lines(edge_b.log, "not a finite number, refused")),
        "outbox full (edge log lines)": sum(
            len(log_lines(e.log, "policy stop_collecting refused")) for e in site.edges
        ),
    }
    v.served_not_committed = _unaccounted(site, finite, done, down, stopped_at)
    v.dst = _dst(site, central)
    v.alerts = _alerts(site)
    return v


def _reason_kind(reason: str) -> str:
    if "future" in reason:
        return f"timestamp in the future ({reason[:80]})"
    return reason[:100]


def _unaccounted(site: SoakSite, finite, done: set, down, stopped_at: float) -> dict[str, int]:
    """Served values no edge committed, by the explanation the soak's records give."""
    got = {(k[0], k[1], k[3]) for k in done}
    owner = {m["id"]: e.name for e in site.edges for m in e.meters}
    full = {
        e.name: [t.timestamp() for t, _ in log_lines(e.log, "policy stop_collecting refused")]
        for e in site.edges
    }
    slack = site.interval + 2.0
    counts: Counter = Counter()
    seen = set()
    for s in finite:
        key = (s.meter, s.point, s.value)
        if key in got or key in seen:
            continue
        seen.add(key)
        at, edge = s.at.timestamp(), owner.get(s.meter)
        if any(name == edge and killed - slack <= at <= back + 30 for name, killed, back in down):
            counts["edge killed or restarting"] += 1
        elif any(abs(at - t) <= slack for t in full.get(edge, [])):
            counts["refused: outbox full"] += 1
        elif at >= stopped_at - slack:
            counts["at the final stop"] += 1
        else:
            counts["unexplained"] += 1
    return dict(counts)


def _dst(site: SoakSite, central: set) -> dict:
    """Edge B's readings on both sides of the daylight-saving change it was placed before."""
    change = site.dst_change.isoformat(timespec="microseconds")
    b_meters = {m["id"] for m in site.edge("edge-b").meters}
    stamps = sorted(k[2] for k in central if k[0] in b_meters)
    before = sum(1 for t in stamps if t < change)
    return {"change_utc": site.dst_change.isoformat(), "readings_before": before,
            "readings_after": len(stamps) - before, "crossed": 0 < before < len(stamps)}  # fmt: skip


def _alerts(site: SoakSite) -> list[dict]:
    """The edges' alerts raised and resolved (their logs) and central's alerts table."""
    found = []
    for edge in site.edges:
        for at, line in log_lines(edge.log, "edge alert "):
            words = line.split("edge alert ", 1)[1].split()
            found.append({"where": edge.name, "kind": words[0], "state": words[1].rstrip(":"),
                          "at": at.isoformat(timespec="seconds"), "line": line.split(": ", 1)[-1][:160]})  # fmt: skip
    for kind, opened, resolved, message in query(
        site.db_url, "SELECT kind, opened_at, resolved_at, message FROM alerts"
    ):
        found.append({"where": "central", "kind": kind, "state": "resolved" if resolved else "open",
                      "at": opened.isoformat(timespec="seconds"), "line": (message or "")[:160],
                      "resolved_at": resolved.isoformat(timespec="seconds") if resolved else None})  # fmt: skip
    return found


def alerts_for(alerts: list[dict], start: datetime, end: datetime, tail: float = 60.0) -> list[str]:
    """Alerts raised within a fault's span (plus a minute), as short texts (one per where and kind)."""
    found: dict[tuple[str, str], str] = {}
    for alert in alerts:
        at = datetime.fromisoformat(alert["at"])
        if (
            not start - timedelta(seconds=5) <= at <= end + timedelta(seconds=tail)
            or alert["state"] == "resolved"
            and alert["where"] != "central"
        ):
            continue
        if alert["where"] == "central":
            resolved_at = alert.get("resolved_at")
        else:
            resolved = next((a for a in alerts if a["where"] == alert["where"] and a["kind"] == alert["kind"]
                             and a["state"] == "resolved" and a["at"] >= alert["at"]), None)  # fmt: skip
            resolved_at = resolved["at"] if resolved else None
        found.setdefault((alert["where"], alert["kind"]), f"{alert['where']} {alert['kind']} raised {alert['at'][11:19]}"
                         + (f", resolved {resolved_at[11:19]}" if resolved_at else ", NOT resolved"))  # fmt: skip
    return list(found.values())
