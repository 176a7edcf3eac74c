"""Whole public pages for anonymous visitors, kept in the shared cache under versioned keys.

- Every stored page holds the *publication version* it was rendered at, a counter in the
  cache. Whatever can change what the public sees (a project saved or deleted, its
  secondary tracks, a track, a bulk update) bumps it once its transaction has committed,
  so the next request after a publish or an unpublish finds a page of an older version,
  renders the page afresh and stores it over the old one: nothing is ever purged. The
  version and the page are read together (one round trip to Redis).
- A page is kept at most PAGE_CACHE_SECONDS, and never past the next scheduled
  publication (a project whose publication time is still to come becomes public with no
  write at all).
- Only anonymous requests are served from the cache (no session and no messages cookie),
  and only plain 200 answers that set no cookie and are at most PAGE_CACHE_MAX_BYTES are
  stored. Pages hold no nonce and no
  CSRF token (base.html), so one rendering fits every visitor; the CSP header is added
  afresh to each answer by the middleware.

The cache must be shared by every worker (Redis): with a per-process cache a bump in one
process would not reach the others, so PAGE_CACHE_SECONDS is 0 (off) unless REDIS_URL is
set (aimap/settings.py).
"""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

VERSION_KEY = "aimap:publication-version"
NEXT_KEY = "aimap:next-publication:{version}"
PAGE_KEY = "aimap:page:{language}:{variant}:{digest}"
KEPT_HEADERS = ("Content-Type", "Content-Language", "Content-Disposition")
NEVER = 0


def enabled():
    return settings.PAGE_CACHE_SECONDS > 0


def version():
    """The current publication version (starts at a number no earlier run has used)."""
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        current = cache.get(VERSION_KEY)
    return current


def bump():
    """A new publication version: every page key changes."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there (evicted or never read): any fresh number will do
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def published_changed():
    """Call after a write that changes public data: the version moves once it commits."""
    if enabled():
        transaction.on_commit(bump)


def _seconds_to_next_publication(current):
    """Seconds until the next scheduled publication (at most PAGE_CACHE_SECONDS)."""
    key = NEXT_KEY.format(version=current)
    next_at = cache.get(key)
    if next_at is None:
        from registry.models import Project

        upcoming = (
            Project.objects.scheduled()
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
        )
        next_at = upcoming.timestamp() if upcoming else NEVER
        cache.set(key, next_at, timeout=settings.PAGE_CACHE_SECONDS)
    limit = settings.PAGE_CACHE_SECONDS
    if next_at == NEVER:
        return limit
    return max(0, min(limit, int(next_at - time.time())))


def _anonymous(request):
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _key(request):
    # What django-htmx decides (HX-Request: true), as the views do: `HX-Request: false` is a
    # whole page and must not be stored under the fragment's key.
    variant = "htmx" if getattr(request, "htmx", False) else "page"
    digest = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return PAGE_KEY.format(language=get_language(), variant=variant, digest=digest)


def cache_public_page(view):
    """Serve `view` from the shared cache to anonymous visitors (see the module's notes)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not enabled() or request.method not in ("GET", "HEAD") or not _anonymous(request):
            return view(request, *args, **kwargs)
        key = _key(request)
        found = cache.get_many([VERSION_KEY, key])
        current = found.get(VERSION_KEY)
        if current is None:
            current = version()
        stored = found.get(key)
        if stored is not None and stored[0] == current:
            _version, body, headers = stored
            response = HttpResponse(body)
            for name, value in headers.items():
                response[name] = value
            response["X-Page-Cache"] = "hit"
        else:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            if _storable(response):
                timeout = _seconds_to_next_publication(current)
                if timeout > 0:
                    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
                    cache.set(key, (current, response.content, headers), timeout=timeout)
            response["X-Page-Cache"] = "miss"
        patch_vary_headers(response, ("Accept-Language", "Cookie", "HX-Request"))
        return response

    return wrapper


def _storable(response):
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and len(response.content) <= settings.PAGE_CACHE_MAX_BYTES
    )
