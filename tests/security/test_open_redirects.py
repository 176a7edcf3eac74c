"""Open redirects: no `next=` (nor Referer) sends anyone off the site.

Every place that redirects to an address it was given: the language links
(/language/<code>/?next=), Django's language form (/i18n/setlang/, next= and the
Referer), the founders' login, logout and sign-up (allauth), and the admin's login and
logout; each with the usual tricks (other hosts, scheme-relative and backslash forms,
`javascript:`, a scheme without slashes, userinfo, whitespace and control characters,
percent-encoded and double-encoded forms). A redirect is judged as a browser would read
its Location: tabs and newlines dropped, leading spaces and control characters stripped,
backslashes as slashes.
"""

import re
from urllib.parse import quote, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.base import make_user

pytestmark = pytest.mark.django_db

HOST = "testserver"
TARGETS = [
    "https://evil.example",
    "http://evil.example/path",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "\x1f//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:evil.example",
    "https:evil.example",
    "http:/evil.example",
    "https:\\\\evil.example",
    f"https://{HOST}@evil.example",
    f"https://evil.example\\@{HOST}",
    f"https://evil.example#@{HOST}",
    f"https://evil.example?@{HOST}",
    "https://evil.example%2F@testserver",
    "%2F%2Fevil.example",
    "%2f%2fevil.example",
    "%252F%252Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "https://evil.example:443@testserver",
    "https://ｅｖｉｌ.example",
    "http://127.0.0.2/",
    "http://[::2]/",
]
CONTROL = re.compile(r"[\t\n\r]")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth counts logins per address in the cache, which outlives a test: dozens of
    parametrized logins would meet its limit (429), which is not what is tested here."""
    cache.clear()
    yield
    cache.clear()


def lands(location, base=f"http://{HOST}/"):
    """Where a browser would go for this Location header: (scheme, host) or the site's own."""
    text = CONTROL.sub("", location).lstrip("".join(map(chr, range(33)))).replace("\\", "/")
    parts = urlsplit(text)
    if parts.scheme:
        if parts.scheme.lower() not in ("http", "https"):
            return parts.scheme.lower(), ""
        if not text.lower().startswith(f"{parts.scheme.lower()}://"):
            # "http:evil.example": a special scheme without slashes still names a host when
            # the page is on the other scheme; treat it as leaving.
            return parts.scheme.lower(), parts.path.lstrip("/").split("/")[0]
        return parts.scheme.lower(), (parts.hostname or "")
    if parts.netloc:
        return "", parts.hostname or parts.netloc
    return "", HOST


def stays(location):
    scheme, host = lands(location)
    return scheme in ("", "http", "https") and host == HOST


def test_the_judge_itself():
    assert stays("/my/") and stays("?page=2") and stays(f"http://{HOST}/my/") and stays("%2F%2Fevil.example")
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        assert not stays(target), target
    assert not stays("http:evil.example") and not stays(" //evil.example") and not stays("/\t/evil.example")


def check(response, target, where):
    if response.status_code in (301, 302, 303, 307, 308):
        location = response["Location"]
        assert stays(location), f"{where} with next={target!r} redirects to {location!r}"
    # A page shown instead must not make the target a link, a form's address or a refresh.
    # (A login form keeps `next` in a hidden field: it is judged again when the form is sent,
    # and the tests below send it.)
    text = response.content.decode("utf-8", "replace")
    for attribute in ("href", "action", "content", "formaction"):
        for value in re.findall(rf'{attribute}="([^"]*)"', text):
            if "evil.example" in value:
                assert stays(value.replace("&amp;", "&")), (
                    f"{where} with next={target!r}: {attribute}={value!r}"
                )


@pytest.fixture
def founder(db):
    user = make_user("founder")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def editor(db):
    user = make_user("editor", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.mark.parametrize("target", TARGETS)
def test_the_language_links(client, target):
    for code in ("en", "zh-hans"):
        response = client.get(reverse("switch-language", args=[code]), {"next": target})
        assert response.status_code == 302
        check(response, target, f"/language/{code}/")


@pytest.mark.parametrize("target", TARGETS)
def test_the_language_form_and_its_referer(client, target):
    response = client.post(reverse("set_language"), {"language": "en", "next": target})
    check(response, target, "/i18n/setlang/ next")
    response = client.post(reverse("set_language"), {"language": "en"}, headers={"referer": target})
    check(response, target, "/i18n/setlang/ Referer")


@pytest.mark.parametrize("target", TARGETS)
def test_the_founders_login(founder, target):
    client = Client()
    page = client.get(reverse("account_login"), {"next": target})
    check(page, target, "the login page")
    response = client.post(
        f"{reverse('account_login')}?next={quote(target, safe='')}",
        {"login": founder.email, "password": "correct horse battery", "next": target},
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session
    check(response, target, "logging in")


@pytest.mark.parametrize("target", TARGETS)
def test_the_founders_logout(founder, target):
    client = Client()
    client.force_login(founder)
    response = client.post(f"{reverse('account_logout')}?next={quote(target, safe='')}", {"next": target})
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    check(response, target, "logging out")


@pytest.mark.parametrize("target", TARGETS[:12])
def test_signing_up(db, target):
    client = Client()
    check(client.get(reverse("account_signup"), {"next": target}), target, "the sign-up page")
    response = client.post(
        f"{reverse('account_signup')}?next={quote(target, safe='')}",
        {
            "email": f"new{TARGETS.index(target)}@example.com",
            "password1": "a long enough password 42",
            "password2": "a long enough password 42",
            "next": target,
        },
    )
    assert response.status_code == 302
    check(response, target, "signing up")


@pytest.mark.parametrize("target", TARGETS)
def test_the_admin_login_and_logout(editor, target):
    client = Client()
    page = client.get(reverse("admin:login"), {"next": target})
    check(page, target, "the admin login page")
    response = client.post(
        f"{reverse('admin:login')}?next={quote(target, safe='')}",
        {"username": editor.username, "password": "correct horse battery", "next": target},
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session
    check(response, target, "logging in to the admin")
    response = client.post(f"{reverse('admin:logout')}?next={quote(target, safe='')}", {"next": target})
    check(response, target, "logging out of the admin")
    assert "_auth_user_id" not in client.session


def test_visitors_sent_to_log_in_come_back_to_the_page_they_asked_for(founder):
    client = Client()
    response = client.get(reverse("review:dashboard"))
    assert response.status_code == 302 and response.url == f"{reverse('account_login')}?next=/my/"
    response = client.post(
        response.url, {"login": founder.email, "password": "correct horse battery", "next": "/my/"}
    )
    assert response.status_code == 302 and response.url == "/my/"


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example"])
def test_a_wildcard_in_allowed_hosts_does_not_open_redirects(founder, settings, target):
    """ALLOWED_HOSTS=* (behind a proxy that checks hosts) must not make every host "ours"."""
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    response = client.post(
        reverse("account_login"),
        {"login": founder.email, "password": "correct horse battery", "next": target},
    )
    check(response, target, "logging in with ALLOWED_HOSTS=*")
    check(
        client.get(reverse("switch-language", args=["en"]), {"next": target}), target, "/language/en/ with *"
    )
    check(client.post(reverse("set_language"), {"language": "en", "next": target}), target, "setlang with *")
    check(
        client.post(reverse("account_logout"), {"next": target}), target, "logging out with ALLOWED_HOSTS=*"
    )
