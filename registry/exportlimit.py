"""One streamed download at a time per client.

A filtered CSV or JSON download (and the whole map while its file is not written yet) is
written in the request, which holds a worker for as long as it takes (seconds at 100,000
projects). So each client address (registry.clientip) may run one at a time: a second while
the first runs is answered 429 at once. The slot is a key in the shared cache, given back
when the response is closed (sent, or the client gone) and in any case after
EXPORT_SLOT_SECONDS (a worker killed mid-download never gives it back).
"""

import secrets

from django.conf import settings
from django.core.cache import cache

from registry.clientip import client_ip

SLOT_KEY = "aimap:export-slot:{client}"


def take(request):
    """A function that gives the slot back if this client may start a download now, else None."""
    key = SLOT_KEY.format(client=client_ip(request) or "unknown")
    token = secrets.token_hex(8)
    if not cache.add(key, token, timeout=settings.EXPORT_SLOT_SECONDS):
        return None

    def give_back():
        if cache.get(key) == token:
            cache.delete(key)

    return give_back


class Holding:
    """A streamed response's content that gives the slot back when the response is closed
    (StreamingHttpResponse closes what it streams, and WSGI servers close the response,
    whether the client read it all or went away)."""

    def __init__(self, pieces, give_back):
        self.pieces, self.give_back = pieces, give_back

    def __iter__(self):
        return iter(self.pieces)

    def close(self):
        try:
            close = getattr(self.pieces, "close", None)
            if close is not None:
                close()
        finally:
            self.give_back()
