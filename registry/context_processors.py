from django.utils.functional import SimpleLazyObject

from registry.models import Track


def tracks(request):
    """All tracks, read only when a template uses them (the header's colours, menus), and
    the digest of their colours for the stylesheet's URL (aimap.views.track_styles)."""
    from aimap.views import track_styles_version

    all_tracks = SimpleLazyObject(lambda: list(Track.objects.all()))
    return {
        "all_tracks": all_tracks,
        "track_styles_version": SimpleLazyObject(lambda: track_styles_version(all_tracks)),
    }
