"""Django's Redis cache backend, with one redis-py client per connection pool.

Django's RedisCacheClient.get_client() builds a new `redis.Redis` for every cache call; its
constructor registers some 170 response callbacks, about 0.45 ms of CPU, which made two
thirds of the cost a cached public page adds over the bare middleware (docs/performance.md).
A client holds no connection of its own (its pool does) and is safe to share between
threads, so one per pool is kept and reused.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
