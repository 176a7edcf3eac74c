import pytest

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
