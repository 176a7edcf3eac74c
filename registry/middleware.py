"""Public addresses of a bounded size: the filters of the list, the map, the statistics,
the API, the downloads and the feed are read from the query string, and each active value
becomes a chip whose link carries the rest of the query. Unbounded, a page grew with the
square of its address (a 14 KB address made an 18 MB page). So, before any view:

- repeated values of a parameter count once (`?track=coding&track=coding` is one track);
- an address longer than MAX_QUERY_LENGTH characters, or with more than MAX_QUERY_VALUES
  values in all, is answered with a page saying so (414), never rendered.

The admin (its own filters) is left alone. registry.pagecache also never stores a page
larger than PAGE_CACHE_MAX_BYTES.
"""

from django.conf import settings
from django.shortcuts import render


class BoundedQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("QUERY_STRING") and not request.path.startswith(f"/{settings.ADMIN_URL}"):
            too_long = len(request.META["QUERY_STRING"]) > settings.MAX_QUERY_LENGTH
            if (
                too_long
                or sum(len(values) for _name, values in request.GET.lists()) > settings.MAX_QUERY_VALUES
            ):
                return render(
                    request,
                    "414.html",
                    {"max_length": settings.MAX_QUERY_LENGTH, "max_values": settings.MAX_QUERY_VALUES},
                    status=414,
                )
            if any(len(set(values)) < len(values) for _name, values in request.GET.lists()):
                request.GET = deduplicated(request.GET)
        return self.get_response(request)


def deduplicated(params):
    copy = params.copy()
    for name, values in params.lists():
        copy.setlist(name, list(dict.fromkeys(values)))
    copy._mutable = False
    return copy
