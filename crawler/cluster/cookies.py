"""One browser solve per host for the whole cluster: the challenge cookies, shared.

On one machine the anti-bot middleware (``crawler.anti_bot``) passes a host's
JavaScript cookie challenge once in Chromium and reuses the cookie.  Workers each
doing so would each start a browser and fetch the challenge again.  Here, under
``<crawl>:challenge:<host>``, the cookies a worker's browser obtained are kept with a
generation number; a worker meeting the challenge takes cookies of a generation it
has not tried yet, or — when none are there — solves it itself if no other worker
is solving (``…:solving``, held at most twice the solve timeout, so a worker killed
mid-solve does not block the others), else waits for that worker's cookies.
"""

from __future__ import annotations

import asyncio
import json

import redis

from crawler.anti_bot import AntiBotMiddleware

# How often a worker waiting for another's solve looks for its cookies.
_WAIT_POLL_SECONDS = 0.2


class ClusterAntiBotMiddleware(AntiBotMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler)
        self._shared_generation: dict[str, int] = {}  # host → the generation this worker took last

    def _key(self, host: str) -> str:
        return f"{self.crawler.engine.scheduler.crawl.base}:challenge:{host}"

    async def cookies_solved_elsewhere(self, host: str) -> list[dict] | None:
        scheduler = self.crawler.engine.scheduler
        if scheduler.cluster_lost:
            return None
        client, key = scheduler.server, self._key(host)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.solve_timeout * 2
        try:
            while True:
                generation, cookies = client.hmget(key, "generation", "cookies")
                if generation is not None and int(generation) > self._shared_generation.get(host, 0):
                    self._shared_generation[host] = int(generation)
                    self.stats.inc_value("anti_bot/shared_cookies_taken")
                    return json.loads(cookies)
                lock_seconds = max(1, int(self.solve_timeout * 2))
                if client.set(f"{key}:solving", scheduler.worker, nx=True, ex=lock_seconds) or loop.time() > deadline:
                    return None
                if scheduler.cluster_lost:  # the worker is stopping: no one will share cookies now
                    return None
                await asyncio.sleep(_WAIT_POLL_SECONDS)
        except redis.RedisError:
            return None  # solve it here; the worker's heartbeat deals with Redis

    def cookies_solved(self, host: str, cookies: list[dict]) -> None:
        scheduler = self.crawler.engine.scheduler
        if scheduler.cluster_lost:
            return
        key = self._key(host)
        try:
            with scheduler.server.pipeline() as pipe:
                pipe.hincrby(key, "generation", 1)
                pipe.hset(key, "cookies", json.dumps(cookies))
                pipe.delete(f"{key}:solving")
                generation = pipe.execute()[0]
        except redis.RedisError:
            return
        self._shared_generation[host] = int(generation)
