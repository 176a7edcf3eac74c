"""Strings that Django 6.1 shows on our pages but whose Chinese translation it lacks.

Marked here so that `make messages` keeps them in our catalogue (locale/), which
Django consults before its own.
"""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = [
    gettext_noop("- Select an option -"),  # django.db.models.fields.BLANK_CHOICE_LABEL
]
