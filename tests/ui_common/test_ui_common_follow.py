"""The dashboards' one subscription loop (ui_common/follow.py): events under the lock, reconnects, stopping."""

import asyncio

from ui_common.follow import follow, taking_over


class _State:
    """Stands in for a Reflex state: counts how often its lock is taken."""

    def __init__(self) -> None:
        self.locked = 0
        self.watching = ""

    async def __aenter__(self):
        self.locked += 1
        return self

    async def __aexit__(self, *exc) -> None:
        return None


class Lost(Exception):
    """The subscription's connection went away."""


async def test_follow_reconnects_after_a_loss_and_stops_when_no_longer_in_charge():
    state, seen, errors, connects = _State(), [], [], []

    async def events():
        connects.append(1)
        if len(connects) == 1:
            yield {"n": 1}
            raise Lost("gone")
        yield None
        yield {"n": 2}
        yield {"n": 3}

    async def handle(event):
        seen.append(event)

    def interrupted(err: Exception) -> bool:
        errors.append(str(err))
        return False

    await asyncio.wait_for(
        follow(state, events, lambda: len(seen) < 3, handle, interrupted, (Lost,), retry_seconds=0), 5
    )
    assert seen == [{"n": 1}, None, {"n": 2}]  # the third event finds the loop no longer in charge
    assert errors == ["gone"] and len(connects) == 2
    assert state.locked >= 4


async def test_follow_stops_when_an_error_says_so_and_runs_after_outside_the_lock():
    state, after_calls = _State(), []

    async def events():
        yield {"n": 1}
        raise Lost("log in")

    async def handle(event):
        return None

    async def after():
        after_calls.append(state.locked)

    await asyncio.wait_for(
        follow(state, events, lambda: True, handle, lambda err: True, (Lost,), retry_seconds=0, after=after),
        5,
    )
    assert after_calls == [1]


async def test_a_subscription_silent_longer_than_its_stale_limit_is_opened_again():
    state, seen, connects, closed = _State(), [], [], []

    async def events():
        connects.append(1)
        try:
            if len(connects) == 1:
                yield {"n": 1}
                while True:  # connected, but nothing comes any more: quiet ticks only
                    await asyncio.sleep(0.01)
                    yield None
            yield {"n": 2}
        finally:
            closed.append(len(connects))

    async def handle(event):
        if event is not None:
            seen.append(event)

    await asyncio.wait_for(
        follow(
            state, events, lambda: len(seen) < 2, handle, lambda err: False, (Lost,), 0, stale_seconds=0.2
        ),
        5,
    )
    assert seen == [{"n": 1}, {"n": 2}] and len(connects) == 2
    assert closed[0] == 1  # the silent subscription was closed before the next one opened


async def test_a_newer_task_takes_over_and_an_older_one_unwinding_late_leaves_it_in_charge():
    state, stopped = _State(), asyncio.Event()
    older_ready, newer_ready = asyncio.Event(), asyncio.Event()

    async def older():
        async with taking_over(state, "watching") as current:
            older_ready.set()
            await newer_ready.wait()
            assert not current()  # its next wake-up finds it no longer in charge
            await stopped.wait()  # still unwinding (as a cancelled task may be) when the newer one runs

    async def newer():
        await older_ready.wait()
        async with taking_over(state, "watching") as current:
            newer_ready.set()
            assert current()
            stopped.set()
            await asyncio.sleep(0.01)  # the older task leaves meanwhile
            assert current() and state.watching

    await asyncio.wait_for(asyncio.gather(older(), newer()), 5)
    assert state.watching == ""  # the one in charge cleared its id on the way out
