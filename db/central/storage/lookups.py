"""SQL of a point's readings around an instant, fit for readings' monthly partitions.

A lookup of a point's newest reading before an instant with no lower bound descends into every older
partition's index (a Merge Append over them all; the default partition rules out PostgreSQL's ordered
Append): after two years of history a live fold round cost 3x. So such a lookup searches the last NEAREST
first, where a live point always finds its row and which lies in one monthly partition unless the instant is
in a month's first day; then the last NEAR, and only when both find nothing the rest: COALESCE evaluates an
argument only when those before it are NULL, so the answer is the same. (With NEAR alone the search probed
two partitions in most lookups: a Merge Append starts every child it keeps.)
"""

NEAREST = "interval '1 day'"
NEAR = "interval '31 days'"


def usable_before(point: str, at: str) -> str:
    """SQL of the time of the point's newest usable reading before at (NULL when none), nearest first."""
    nearest, near = f"({at})::timestamptz - {NEAREST}", f"({at})::timestamptz - {NEAR}"
    tiers = (f"ts >= {nearest}", f"ts < {nearest} AND ts >= {near}", f"ts < {near}")
    return (
        "COALESCE("
        + ",".join(
            f"""
    (SELECT ts FROM readings WHERE point_id = {point} AND ts < {at} AND {tier} AND quality < 2
     ORDER BY ts DESC LIMIT 1)"""
            for tier in tiers
        )
        + ")"
    )


def window_rows(
    point: str,
    lo: str,
    hi: str,
    *,
    skip: tuple[str, str] | None = None,
    until: str | None = None,
    none_before: str | None = None,
) -> str:
    """SQL of the point's (ts, value, quality) in [lo, hi) in time order, after its usable reading before lo
    and before its first usable reading at hi or later (a window with its usable neighbours); without the
    rows in skip = [a, b) when given (lo <= a <= b <= hi), which the caller holds. until (SQL, may be NULL):
    the point's newest reading when the caller knows it; the neighbour after is looked for up to it only
    (the partitions after it, the future months and the default one, are pruned instead of searched).
    none_before (SQL boolean): true when the caller knows the point has no usable reading before lo, so the
    lookup (every older partition's index, when there is none) is not made."""
    bound = "" if until is None else f" AND ts <= COALESCE({until}, 'infinity')"
    before = usable_before(point, lo)
    if none_before is not None:  # CASE evaluates the lookup's subqueries only when it reaches them
        before = f"CASE WHEN {none_before} THEN NULL ELSE {before} END"
    if skip is None:
        inside = f"""
  (SELECT ts, value, quality FROM readings WHERE point_id = {point} AND ts >= {lo} AND ts < {hi} ORDER BY ts)"""
    else:
        inside = f"""
  (SELECT ts, value, quality FROM readings WHERE point_id = {point} AND ts >= {lo} AND ts < {skip[0]} ORDER BY ts)
  UNION ALL
  (SELECT ts, value, quality FROM readings WHERE point_id = {point} AND ts >= {skip[1]} AND ts < {hi} ORDER BY ts)"""
    return f"""
  (SELECT ts, value, quality FROM readings WHERE point_id = {point} AND ts = {before})
  UNION ALL{inside}
  UNION ALL
  (SELECT ts, value, quality FROM readings WHERE point_id = {point} AND ts >= {hi}{bound} AND quality < 2
    ORDER BY ts LIMIT 1)"""
