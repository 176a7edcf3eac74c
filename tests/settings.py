"""Test settings: aimap.settings with what tests need and nothing else.

The environment still decides the database (DATABASE_URL), so the same suite runs
on SQLite and on PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-0123456789")

from aimap.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="aimap-test-media-")
STORAGES["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SECURE_SSL_REDIRECT = False
# Staff log in with a password alone unless a test turns this on (tests/aimap/test_two_factor.py).
STAFF_REQUIRE_MFA = False
# Serve static files from the finders; there is no collectstatic in tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Background tasks run at once, in the test's own thread (review.mailqueue's retries too),
# except where a test starts the real worker process on a database of its own
# (tests/review/test_task_worker.py sets AIMAP_TEST_TASKS=database for that process).
if os.environ.get("AIMAP_TEST_TASKS") != "database":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
if os.environ.get("AIMAP_TEST_MAIL_DIR"):  # that process's mail, as files the test reads
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": os.environ["AIMAP_TEST_MAIL_DIR"]},
        }
    }

# No test reaches out: link checks run only where a test turns them on, against servers it
# started on 127.0.0.1 (tests/lifecycle/test_link_checks.py).
LINK_CHECKS = False
