"""The site's URLs plus /bench/floor/: a fixed page as large as the list page, served
through the same middleware, which the benchmark uses as its floor (the most a page of
that size can do on this server). BENCH_FLOOR_BYTES gives the size."""

import os

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from aimap.urls import urlpatterns as site_urlpatterns


def fixed_page(size):
    """An HTML page of exactly `size` bytes (at least its head and tail)."""
    head = b'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>floor</title></head><body>\n'
    tail = b"\n</body></html>\n"
    line = b"<p>" + b"x" * 76 + b"</p>\n"
    filler = max(0, size - len(head) - len(tail))
    return head + (line * (filler // len(line) + 1))[:filler] + tail


FLOOR_PAGE = fixed_page(int(os.environ.get("BENCH_FLOOR_BYTES") or 50_000))


@require_safe
def floor(request):
    return HttpResponse(FLOOR_PAGE, content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/floor/", floor, name="bench-floor"), *site_urlpatterns]
