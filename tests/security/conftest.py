import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth counts attempts in the cache: every security test starts with none, or the
    many logins of a parametrized test would run into the limit (429) that the next test
    does not mean to test."""
    cache.clear()
    yield
    cache.clear()
