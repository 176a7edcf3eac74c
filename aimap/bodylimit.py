"""Request bodies the application refuses before reading them (413), whatever the proxy
in front does: the proxy's limit is the first line (docs/deployment.md), this the second.

- anonymous visitors: MAX_BODY_ANONYMOUS (log-in, sign-up and reset forms are a few KB);
- signed-in people: MAX_BODY_SIGNED_IN (a founder's form with a 2 MB logo);
- staff on the admin's list import: IMPORT_MAX_FILE_MB + IMPORT_MAX_LOGOS_MB and 1 MB more.

A body whose length is not given (chunked) is refused unless the person may send the
largest bodies there are (staff): a client could otherwise stream without end.
"""

from django.conf import settings
from django.shortcuts import render

MB = 1024 * 1024


def body_limit(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return settings.MAX_BODY_ANONYMOUS
    if user.is_staff and request.path.startswith(f"/{settings.ADMIN_URL}review/listimport/"):
        return (settings.IMPORT_MAX_FILE_MB + settings.IMPORT_MAX_LOGOS_MB + 1) * MB
    return settings.MAX_BODY_SIGNED_IN


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            limit = body_limit(request)
            length = request.META.get("CONTENT_LENGTH") or ""
            chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
            try:
                size = int(length) if length else 0
            except ValueError:
                size = limit + 1  # a length that is not a number: refused like a long one
            if size > limit or (chunked and not length and limit <= settings.MAX_BODY_SIGNED_IN):
                response = render(request, "413.html", {"limit_kb": limit // 1024}, status=413)
                response["Connection"] = "close"
                return response
        return self.get_response(request)
