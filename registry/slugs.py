"""Slugs for projects: readable, ASCII, unique, derived from the name."""

from django.utils.text import slugify
from pypinyin import lazy_pinyin

SLUG_MAX_LENGTH = 100


def base_slug(name, name_en=""):
    """'DeepLang' -> 'deeplang'; '深言科技' -> 'shen-yan-ke-ji' (pinyin)."""
    for candidate in (name_en, name):
        if not candidate:
            continue
        text = " ".join(lazy_pinyin(candidate))
        slug = slugify(text)[: SLUG_MAX_LENGTH - 8].strip("-")
        if slug:
            return slug
    return "project"


def unique_slug(name, name_en="", *, taken):
    """The base slug, or base-2, base-3... `taken(slug)` says whether a slug is used."""
    base = base_slug(name, name_en)
    slug, number = base, 1
    while taken(slug):
        number += 1
        slug = f"{base}-{number}"
    return slug
