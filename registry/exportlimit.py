"""One streamed download at a time per client.

A filtered CSV or JSON download (and the whole map while its file is not written yet) is
written in the request, which holds a worker for as long as it takes (seconds at 100,000
projects). So each client address (registry.clientip) may run one at a time: a second while
the first runs is answered 429 at once. The slot is a row in the database (ExportSlot, one
per client address, unique), so it holds across worker processes and app servers whatever
the cache is; it is given back when the response is closed (sent, or the client gone) and
in any case after EXPORT_SLOT_SECONDS (a worker killed mid-download never gives it back).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.clientip import client_ip
from registry.models import ExportSlot


def take(request):
    """A function that gives the slot back if this client may start a download now, else None."""
    client = (client_ip(request) or "unknown")[:64]
    token = secrets.token_hex(8)
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.EXPORT_SLOT_SECONDS)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                ExportSlot.objects.create(client=client, token=token, expires_at=expires_at)
            break
        except IntegrityError:
            # Held: by a download running now, or by one whose worker died (expired: freed).
            if attempt == 2 or not ExportSlot.objects.filter(client=client, expires_at__lte=now).delete()[0]:
                return None

    def give_back():
        ExportSlot.objects.filter(client=client, token=token).delete()

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
