"""The scheduler's turns: a place among --concurrency while fetching, and a bound on the
assets in memory (fetching or awaiting their commit) once the place is given back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

from data_nexus.sync.schedule import _Turn


class _Writer:
    def __init__(self) -> None:
        self.expected = 0

    def expect(self) -> Callable[[], None]:
        self.expected += 1

        def withdraw() -> None:
            self.expected -= 1

        return withdraw


class _Context:
    def __init__(self) -> None:
        self.writer = _Writer()


def test_a_turn_gives_its_place_back_at_hand_off_and_its_memory_at_the_end() -> None:
    async def scenario() -> list[str]:
        places, in_memory = asyncio.Semaphore(1), asyncio.Semaphore(2)
        ctx = cast(Any, _Context())
        log: list[str] = []
        first_committed, second_committed = asyncio.Event(), asyncio.Event()

        async def asset(name: str, committed: asyncio.Event) -> None:
            async with _Turn(places, in_memory, ctx) as turn:
                log.append(f"{name} fetches")
                turn.end()  # handed to the writer: the place goes back
                turn.end()  # idempotent
                await committed.wait()
                log.append(f"{name} committed")

        tasks = [
            asyncio.create_task(asset("a", first_committed)),
            asyncio.create_task(asset("b", second_committed)),
            asyncio.create_task(asset("c", asyncio.Event())),
        ]
        for _ in range(5):
            await asyncio.sleep(0)
        # a and b fetched one after the other (one place); c waits: two assets in memory
        assert log == ["a fetches", "b fetches"]
        assert ctx.writer.expected == 0
        first_committed.set()
        for _ in range(5):
            await asyncio.sleep(0)
        assert log == ["a fetches", "b fetches", "a committed", "c fetches"]
        tasks[2].cancel()
        second_committed.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert places._value == 1 and in_memory._value == 2  # everything given back
        return log

    asyncio.run(scenario())
