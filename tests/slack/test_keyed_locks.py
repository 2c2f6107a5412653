"""An incident's message is synced by one coroutine at a time, and the lock that serialises
them is dropped once the last one is done: selfreg keeps no lock per incident ever seen."""

from __future__ import annotations

import asyncio

from bot.slack.keyed_locks import KeyedLocks


async def test_one_holder_of_a_key_at_a_time_and_other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    inside: list[int] = []
    most = 0

    async def sync(key: int) -> None:
        nonlocal most
        async with locks.hold(key):
            inside.append(key)
            most = max(most, inside.count(key))
            await asyncio.sleep(0.01)
            inside.remove(key)

    async with asyncio.timeout(5):
        await asyncio.gather(*(sync(key) for key in (1, 1, 1, 2, 2)))
    assert most == 1  # never two syncs of one incident at once


async def test_the_lock_goes_with_its_last_user_and_a_waiter_keeps_it() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_in, release_first, second_in, release_second = (asyncio.Event() for _ in range(4))

    async def user(name: str, entered: asyncio.Event, release: asyncio.Event) -> None:
        async with locks.hold(7):
            order.append(name)
            entered.set()
            await release.wait()

    async with asyncio.timeout(5):
        first = asyncio.create_task(user("first", first_in, release_first))
        await first_in.wait()
        second = asyncio.create_task(user("second", second_in, release_second))
        await asyncio.sleep(0.01)
        assert order == ["first"]  # the second waits on the first's lock
        release_first.set()
        await first
        await second_in.wait()
        assert len(locks) == 1  # the second holds the same lock: it was kept for it
        release_second.set()
        await second
    assert order == ["first", "second"] and len(locks) == 0


async def test_a_cancelled_waiter_leaves_nothing_behind() -> None:
    locks = KeyedLocks()
    async with locks.hold(3):
        waiting = asyncio.create_task(locks.hold(3).__aenter__())
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
    assert len(locks) == 0
