from django.conf import settings
from django.utils.functional import SimpleLazyObject

from registry.absolute import site_scheme
from registry.models import Track, track_styles_version


def request_tracks(request):
    """All tracks, read once per request and shared by whatever needs them (the header's
    stylesheet version, the list's filters, the home and track pages)."""
    if not hasattr(request, "_all_tracks"):
        request._all_tracks = list(Track.objects.all())
    return request._all_tracks


def site(request):
    """SITE_URL for the templates' absolute URLs (canonical, og:url): never the request's host."""
    return {"site_url": settings.SITE_URL, "site_scheme": site_scheme()}


def tracks(request):
    """All tracks, read only when a template uses them (the header's colours, menus), and
    the digest of their colours for the stylesheet's URL (aimap.views.track_styles)."""
    all_tracks = SimpleLazyObject(lambda: request_tracks(request))
    return {
        "all_tracks": all_tracks,
        "track_styles_version": SimpleLazyObject(lambda: track_styles_version(all_tracks)),
    }
