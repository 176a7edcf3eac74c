from django.utils import translation

from registry.models import Track

FIRST_EDITION = [
    "ai-companion", "customer-service", "healthcare", "education", "finance", "image-design", "video",
    "voice-audio", "agents", "coding", "productivity", "marketing-ecommerce", "enterprise-knowledge",
    "industry", "infrastructure",
]  # fmt: skip


def test_it_creates_the_fifteen_tracks_in_order(db):
    assert list(Track.objects.values_list("slug", flat=True)) == FIRST_EDITION


def test_every_track_has_both_languages_and_a_colour(db):
    for track in Track.objects.all():
        assert track.name_zh and track.name_en and track.description_zh and track.description_en
        assert track.color.startswith("#") and len(track.color) == 7


def test_it_names_a_track_in_the_current_language(db):
    track = Track.objects.get(slug="customer-service")
    with translation.override("zh-hans"):
        assert track.name == "智能客服"
    with translation.override("en"):
        assert track.name == "Customer service"
