"""bench/pairs.py: each pair's two runs compared before the pairs are summed up."""

import pytest

from bench.pairs import cpu_pair_costs, describe, pair_costs


def test_rates_and_cpu_are_compared_pair_by_pair():
    # a machine that ran twice as fast for the second pair: pooled medians would mix the two speeds
    on, off = [80.0, 170.0, 90.0], [100.0, 200.0, 100.0]
    assert pair_costs(on, off) == pytest.approx([0.2, 0.15, 0.1])
    assert cpu_pair_costs([5.0, 2.5], [4.0, 2.0]) == pytest.approx([0.2, 0.2])
    assert describe(pair_costs(on, off), "trial") == "trial pairs 10% … 20%, median 15%"


def test_pairs_must_match():
    with pytest.raises(ValueError):
        pair_costs([1.0], [1.0, 2.0])
