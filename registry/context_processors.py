from django.utils.functional import SimpleLazyObject

from registry.models import Track


def tracks(request):
    """All tracks, read only when a template uses them (the header's colours, menus)."""
    return {"all_tracks": SimpleLazyObject(lambda: list(Track.objects.all()))}
