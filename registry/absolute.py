"""Absolute URLs, always from SITE_URL: never from the request's Host header.

ALLOWED_HOSTS checks the host name but not the port, so a request for
`map.example.org:31337` passed, and links built from it (a password reset mail, the page's
canonical and og:url, the API's and the feed's links) pointed there; the page cache, whose
key ignores the host, then served that to every visitor. Every absolute URL we write —
pages, API, downloads, feed, sitemap, robots.txt, mail — comes from here instead.
"""

from urllib.parse import urlsplit

from django.conf import settings


def absolute(location):
    """SITE_URL + `location` (a path from the site's root, "/projects/…"). A URL that is
    absolute already (a storage's, a CDN's) is returned as it is; one without a scheme
    ("//cdn…") gets SITE_URL's."""
    parts = urlsplit(location)
    if parts.scheme and parts.netloc:
        return location
    if parts.netloc:
        return f"{site_scheme()}:{location}"
    if not location.startswith("/"):
        raise ValueError(f"not a path from the site's root: {location!r}")
    return settings.SITE_URL + location


def site_scheme():
    return urlsplit(settings.SITE_URL).scheme


def site_domain():
    return urlsplit(settings.SITE_URL).netloc
