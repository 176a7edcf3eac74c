"""The keys of the fragments public pages keep in the cache (registry/fragments.py), as
filters: `{% cache 600 cards projects|cards_key %}`."""

from django import template

from registry import fragments

register = template.Library()

register.filter("filter_form_key", fragments.filter_form_key)
register.filter("cards_key", fragments.cards_key)
register.filter("tiles_key", fragments.tiles_key)
register.filter("charts_key", fragments.charts_key)
