"""The fault plan: reproducible from its seed, every kind planned, the blackout as long as the issue asks."""

from meterit.soak.schedule import KINDS, blackout_seconds, plan


def test_same_seed_same_plan_and_another_seed_another():
    assert plan(7, 1800) == plan(7, 1800)
    assert plan(7, 1800) != plan(8, 1800)


def test_every_kind_is_planned_in_short_and_long_runs():
    for seconds in (30, 45, 1800):
        assert {f.kind for f in plan(3, seconds)} == set(KINDS)


def test_blackout_is_five_minutes_in_a_long_run_and_scaled_down_in_short_ones():
    assert blackout_seconds(1800) == 300
    assert blackout_seconds(600) == 100
    assert blackout_seconds(30) == 20


def test_edge_kills_in_writes_stay_out_of_the_blackout_and_the_degraded_network_ends_before_it():
    for seed in range(20):
        faults = plan(seed, 1800)
        black = next(f for f in faults if f.kind == "blackout")
        degraded = next(f for f in faults if f.kind == "netem_degraded")
        assert degraded.ends < black.at
        for kill in (f for f in faults if f.kind == "edge_kill_write"):
            assert not black.at - 10 <= kill.at <= black.ends + 5
