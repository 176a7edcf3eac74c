import pytest
from django.core.cache import cache
from django.utils import translation

from tests.base import make_user


@pytest.fixture
def founder(db):
    return make_user("founder")


@pytest.fixture
def other_founder(db):
    return make_user("other_founder")


@pytest.fixture
def editor(db):
    return make_user("editor", is_staff=True)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache (rate limits, download slots, the page cache)."""
    cache.clear()


@pytest.fixture(autouse=True)
def english():
    """Messages read in English unless a test picks a language (requests choose their own)."""
    with translation.override("en"):
        yield


@pytest.fixture
def founder_client(client, founder):
    client.force_login(founder)
    return client
