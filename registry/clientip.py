"""The client's address: one function, for everything that counts or logs visitors.

Behind `TRUSTED_PROXY_COUNT` reverse proxies, each proxy appends the address it received
the request from to `X-Forwarded-For`, so the client is the n-th address from the right:
the part left of it was written by whoever sent the request and is ignored (a spoofed
left part changes nothing). With no proxy (0, the default) the header is ignored and the
client is `REMOTE_ADDR`. A header shorter than the count, or an entry there that is not an
address, means the request did not come through the proxies as configured: the client is
then `REMOTE_ADDR` (the nearest peer), never a value taken from the header.

Used by django-axes (AXES_CLIENT_IP_CALLABLE), allauth's rate limits and sessions (the
account adapter, aimap.auth.AccountAdapter), the security log and every rate limit of ours.
It lives in registry, the lowest layer, so that each layer may use it.
"""

import ipaddress

from django.conf import settings


def address(value):
    """`value` as a normalised IP address, or "" if it is not one. Accepts what proxies
    write: an address, an IPv4 address with a port, an IPv6 address in brackets (with or
    without a port)."""
    value = (value or "").strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""


def client_ip(request):
    """The client's address as this site counts it (see the module's text); "" if the
    request has none at all."""
    if request is None:
        return ""
    meta = getattr(request, "META", {})
    remote = address(meta.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(forwarded) < proxies:
        return remote
    return address(forwarded[-proxies]) or remote
