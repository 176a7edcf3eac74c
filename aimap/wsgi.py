"""WSGI entry point, for gunicorn: `gunicorn aimap.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aimap.settings")

application = get_wsgi_application()
