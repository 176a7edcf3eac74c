"""What the security tests share: the URLconf walked pattern by pattern, a URL made from a
pattern, a snapshot of everything a refused request must leave alone, and response bodies."""

import re

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from registry.models import Project, Track
from review.models import Conflict, Event, ListImport, Review, Submission


def walk(patterns=None, prefix="", namespace=""):
    """(route, name, callback) of every URL pattern, namespaced names ("review:dashboard")
    and routes from the site's root ("my/submissions/<int:pk>/")."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name, pattern.callback


def callback_module(callback):
    """The module a view is written in (decorators keep it; admin_view wraps keep it too)."""
    return getattr(callback, "__module__", "") or ""


CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


def url_from_route(route, values):
    """The path of `route` (a path() route or a re_path() regex) with each parameter
    replaced by `values[name]`."""

    def value(match):
        return str(values[match.group("name")])

    path = GROUP.sub(value, route)
    path = CONVERTER.sub(value, path)
    return "/" + path.replace("^", "").replace("$", "")


def body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")


def _rows(model, exclude=()):
    """Every row of `model`'s table, in raw SQL (the ORM's compiling would be most of the cost)."""
    quote = connection.ops.quote_name
    columns = [field.column for field in model._meta.local_concrete_fields if field.column not in exclude]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(column) for column in columns)} FROM {quote(model._meta.db_table)} "
            f"ORDER BY {', '.join(quote(column) for column in columns[:2])}"
        )
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def snapshot():
    """Every row a refused request must leave as it was: submissions (with their reviewers
    and secondary tracks), projects, events, reviews, conflicts, list imports, users (with
    their groups and email addresses), groups with their permissions, and tracks."""
    user = get_user_model()
    tables = {
        "submissions": (Submission, ()),
        "submission reviewers": (Submission.reviewers.through, ()),
        "submission tracks": (Submission.secondary_tracks.through, ()),
        "projects": (Project, ()),
        "project tracks": (Project.secondary_tracks.through, ()),
        "events": (Event, ()),
        "reviews": (Review, ()),
        "conflicts": (Conflict, ()),
        "list imports": (ListImport, ("data", "logos")),
        "users": (user, ("last_login",)),
        "user groups": (user.groups.through, ()),
        "groups": (Group, ()),
        "group permissions": (Group.permissions.through, ()),
        "email addresses": (EmailAddress, ()),
        "tracks": (Track, ()),
    }
    return {name: _rows(model, exclude) for name, (model, exclude) in tables.items()}


def changes(before, after):
    """The names of the parts of two snapshots that differ."""
    return [name for name in before if before[name] != after[name]]
