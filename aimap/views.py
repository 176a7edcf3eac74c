"""Site-wide views: the statistics (public counts and the review's decisions), the language
switch and the track colours' stylesheet.

The last two keep public pages free of per-visitor content (no CSRF token, no CSP nonce), so
that one rendering of a page fits every anonymous visitor (registry.pagecache).
"""

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseForbidden, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.http import require_safe

from aimap.logs import security
from registry.clientip import client_ip
from registry.context_processors import request_tracks
from registry.filters import ProjectFilterSet, active_filters, query_without
from registry.models import Project, Track, track_styles_version
from registry.pagecache import cache_public_page
from registry.stats import project_stats
from registry.survival import section_key, survival
from review.stats import decisions_per_track

RETRY_AFTER_SECONDS = 60


@require_safe
@cache_public_page
def stats(request):
    """Charts of the published projects and their survival by cohort (the list's filters apply),
    and the review's decisions per track (the filters do not apply)."""
    tracks = request_tracks(request)
    filterset = ProjectFilterSet(request.GET, queryset=Project.objects.published(), tracks=tracks)
    numbers, charts = project_stats(filterset, tracks, request.GET)
    # Worked out only when the section is not kept already (registry.survival.section_key).
    cohorts = SimpleLazyObject(lambda: survival(filterset.qs, tracks, request.GET))
    decisions, decision_total = decisions_per_track(tracks)
    context = {
        "filterset": filterset,
        "numbers": numbers,
        "charts": charts,
        "survival": cohorts,
        "survival_key": section_key(request.GET, tracks),
        "decisions": decisions,
        "decision_total": decision_total,
        "chips": active_filters(filterset, request.GET),
        "ignored": filterset.ignored_messages(),
        "query": query_without(request.GET, "page"),
    }
    return render(request, "stats.html", context)


@require_safe
def switch_language(request, code):
    """Remember the chosen language in its cookie and go back to the page (a plain link:
    it changes nothing but the visitor's own preference)."""
    if code not in dict(settings.LANGUAGES):
        raise Http404
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@require_safe
def track_styles(request):
    """One CSS custom property per track (its colour), for tiles, chips and charts."""
    tracks = list(Track.objects.only("slug", "color"))
    css = "".join(f".track-{track.slug}{{--track-color:{track.color}}}\n" for track in tracks)
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    # The URL carries the colours' digest (base.html), so a changed colour is a new URL.
    if request.GET.get("v") == track_styles_version(tracks):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=60"
    return response


# --- Errors ---------------------------------------------------------------------------


def server_error(request):
    """500, or 503 when the database cannot be reached (then nothing was saved and a retry
    will do). Rendered without the request's context processors: no database access."""
    exception = sys.exc_info()[1]
    if isinstance(exception, (OperationalError, InterfaceError)):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.render_to_string("500.html"))


def csrf_failure(request, reason=""):
    """Django's CSRF refusal, logged as a security event; our 403 page for visitors."""
    security.warning(
        "CSRF check failed",
        extra={
            "event": "csrf_failed",
            "reason": reason,
            "path": request.path,
            "ip": client_ip(request),
        },
    )
    if settings.DEBUG:
        return django_csrf_failure(request, reason)
    return HttpResponseForbidden(loader.render_to_string("403.html", request=request))
