"""Settings for aimap: one module, driven by environment variables.

Every variable is listed in README.md ("Configuration"). A malformed value stops
start-up with a one-line error naming the variable (see aimap/env.py).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from aimap.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError("SECRET_KEY is required when DEBUG is off (set DEBUG=1 for development)")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_countries",
    "django_filters",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "django_tasks_db",
    "aimap.apps.AimapConfig",
    "registry",
    "review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "aimap.bodylimit.RequestBodyLimitMiddleware",  # 413 before a large body is read
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "aimap.twofactor.StaffTwoFactorMiddleware",  # staff without TOTP: set it up first
    "django_htmx.middleware.HtmxMiddleware",
    "registry.middleware.BoundedQueryMiddleware",  # filters: bounded addresses (414 beyond)
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aimap.urls"
CSRF_FAILURE_VIEW = "aimap.views.csrf_failure"
WSGI_APPLICATION = "aimap.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registry.context_processors.site",
                "registry.context_processors.tracks",
                "review.context_processors.claims",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql"),
)
_db = dj_database_url.parse(
    DATABASE_URL,
    conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
    conn_health_checks=True,
)
if _db["ENGINE"] == "django.db.backends.postgresql":
    if not _db.get("NAME"):
        raise ConfigError("DATABASE_URL must name a database, e.g. postgres://user@host:5432/aimap")
    # Test databases are created UTF-8 from template0, whatever the cluster's default.
    _db["TEST"] = {"CHARSET": "UTF8", "TEMPLATE": "template0"}
    # No JIT compilation: our queries are short, and PostgreSQL's cost threshold sent the
    # filtered map's to JIT, 20+ ms of compiling per request (docs/performance.md). A URL
    # that sets ?options=... keeps its own.
    _db.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    if not _db.get("NAME"):
        raise ConfigError("DATABASE_URL must name a SQLite file, e.g. sqlite:////srv/aimap/db.sqlite3")
    _db["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "aimap.cache.RedisCache",  # Django's, reusing its clients
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "aimap",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Parts of public pages ({% cache %} in templates) under a digest of what they show
# (registry/fragments.py): never stale, so each process keeps its own, in memory.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
    # at most ~50 MB a process even if every entry were a whole map's tiles (~270 KB)
    "OPTIONS": {"MAX_ENTRIES": 200},
}
# Whole public pages for anonymous visitors (registry.pagecache), at most this long and
# never past a publication. Only with a cache every worker shares: off without Redis.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 300 if REDIS_URL else 0, minimum=0)
# A page larger than this is never stored (the largest real page, /map/, is about 300 KB).
PAGE_CACHE_MAX_BYTES = 1024 * 1024
# Public addresses: at most this many characters after "?" and this many values in all
# (registry.middleware; a 414 page beyond).
MAX_QUERY_LENGTH = 2000
MAX_QUERY_VALUES = 60

# --- Accounts ---------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out client before any password is checked,
    # on every login form (the site's and the admin's).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "review:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "registry:home"

# django-allauth: founders sign up and log in with their email address, which they
# must verify; allauth's rate limits stay on (their defaults).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {"signup": "aimap.forms.SignupForm"}  # adds a honeypot field
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[AI Innovation Map] "
ACCOUNT_PREVENT_ENUMERATION = True
# allauth's own per-email limit on failed logins sits above axes' (LOGIN_FAILURE_LIMIT),
# so a locked-out login meets axes' lockout page (429) rather than allauth's message.
# Password resets: at most 3 an hour to one address (allauth's default, 5 a minute, let a
# script mail-bomb anyone); and no mail at all to an address without an account.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,10/5m/key", "reset_password": "20/m/ip,3/h/key"}
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_ADAPTER = "aimap.auth.AccountAdapter"  # the client's address: registry.clientip
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"

# The reverse proxies in front of the site: the client's address is the TRUSTED_PROXY_COUNT-th
# from the right of X-Forwarded-For (registry.clientip, for axes, allauth, logs and limits).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# django-axes: lock a (login, IP address) pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = "aimap.auth.lockout_parameters"  # staff accounts: per account too
AXES_USERNAME_CALLABLE = "aimap.auth.login_identifier"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_CLIENT_IP_CALLABLE = "registry.clientip.client_ip"
AXES_VERBOSE = False

# Two-factor authentication (allauth.mfa): an authenticator app's codes (TOTP) and recovery
# codes. Whoever has activated it gives a code after the password, on either login (the
# site's or the admin's). With STAFF_REQUIRE_MFA, staff (reviewers, editors, superusers)
# reach no admin page before they have activated it (aimap/twofactor.py); founders may
# activate it, and are never asked to. On unless DEBUG (the demo and tests turn it off).
STAFF_REQUIRE_MFA = env_bool("STAFF_REQUIRE_MFA", not DEBUG)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "AI Innovation Map"  # the name the authenticator app shows (not the Host)
MFA_FORMS = {"authenticate": "aimap.twofactor.AuthenticateForm"}  # wrong codes count in axes

# --- Languages and time -----------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Static files and media -------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

MEDIA_STORAGE = env_choice("MEDIA_STORAGE", ("local", "s3"), "local")


def media_storage(kind):
    """STORAGES["default"] for MEDIA_STORAGE=`kind`, from the S3_* variables for "s3".

    A function so that tests/aimap/test_s3_media.py builds the S3 storage exactly as a
    deployment does, against a local S3 server.
    """
    if kind != "s3":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    bucket = env_str("S3_BUCKET")
    if not bucket:
        raise ConfigError("S3_BUCKET is required when MEDIA_STORAGE=s3")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env_url("S3_ENDPOINT_URL", schemes=("http", "https")) or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "custom_domain": env_str("S3_CUSTOM_DOMAIN") or None,
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": False,
        },
    }


STORAGES = {
    "default": media_storage(MEDIA_STORAGE),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ------------------------------------------------------------------

# Django 6.1's MAILERS (EMAIL_BACKEND and EMAIL_HOST are deprecated).
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    _use_tls, _use_ssl = env_bool("EMAIL_USE_TLS", True), env_bool("EMAIL_USE_SSL", False)
    if _use_tls and _use_ssl:
        raise ConfigError("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587, minimum=1, maximum=65535),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": _use_tls,
                "use_ssl": _use_ssl,
                "timeout": env_int("EMAIL_TIMEOUT", 10, minimum=1),
            },
        }
    }
else:
    # No mail server configured: mail is printed to the console (development).
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
del EMAIL_HOST
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AI Innovation Map <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The association's address: the Reply-To of every email to founders (and named in them), so
# that a reply reaches people rather than the no-reply sender. `check --deploy` warns without it.
CONTACT_EMAIL = env_str("CONTACT_EMAIL", "")
# Every email is sent by the task worker (review.mailqueue): MAIL_ATTEMPTS tries in all, the
# first retry after MAIL_RETRY_SECONDS, each next one after twice as long.
MAIL_ATTEMPTS = env_int("MAIL_ATTEMPTS", 5, minimum=1)
MAIL_RETRY_SECONDS = env_int("MAIL_RETRY_SECONDS", 60, minimum=0)

# --- Background tasks ---------------------------------------------------------
# Django's tasks framework on the database (django-tasks-db): nothing but the database is
# needed; `manage.py db_worker` runs them (`make run` starts it beside the server).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# /readyz fails when a task due to run has waited longer than this (the worker is down).
READY_MAX_TASK_WAIT = env_int("READY_MAX_TASK_WAIT", 300, minimum=1)

# The whole map's downloads are files (registry.downloadfiles), written by a task this many
# seconds after a publication (however many come in between). Filtered downloads are written
# in the request: one at a time per client, a slot kept at most EXPORT_SLOT_SECONDS.
DOWNLOAD_FILES = env_bool("DOWNLOAD_FILES", True)
DOWNLOAD_FILES_DELAY = env_int("DOWNLOAD_FILES_DELAY", 30, minimum=0)
EXPORT_SLOT_SECONDS = env_int("EXPORT_SLOT_SECONDS", 300, minimum=1)

# --- Keeping the map true (review.lifecycle, review.linkjobs, review.schedule) ---------
# Website link checks reach out to the internet: on by default only in production (DEBUG
# off); development, the tests, the benchmark and CI never make them.
LINK_CHECKS = env_bool("LINK_CHECKS", not DEBUG)
# Test-only: let the checker reach 127.0.0.0/8 (the tests' and the benchmark's own servers).
# Not read from the environment: a deployment cannot turn it on by mistake.
LINK_CHECK_ALLOW_LOOPBACK = False
LINK_CHECK_TIMEOUT = env_int("LINK_CHECK_TIMEOUT", 10, minimum=1)
LINK_CHECK_MAX_REDIRECTS = env_int("LINK_CHECK_MAX_REDIRECTS", 5, minimum=0)
# Requests to one host start at least this many milliseconds apart.
LINK_CHECK_HOST_INTERVAL_MS = env_int("LINK_CHECK_HOST_INTERVAL_MS", 2000, minimum=0)
LINK_CHECK_CONCURRENCY = env_int("LINK_CHECK_CONCURRENCY", 8, minimum=1)
LINK_CHECK_BATCH = env_int("LINK_CHECK_BATCH", 5000, minimum=1)  # listings per run at most
LINK_CHECK_EVERY_DAYS = env_int("LINK_CHECK_EVERY_DAYS", 7, minimum=1)  # a website that answers
LINK_CHECK_RETRY_HOURS = env_int("LINK_CHECK_RETRY_HOURS", 20, minimum=1)  # one that does not
# A website failing this many checks in a row over at least this many days: "maybe gone".
LINK_CHECK_GONE_FAILURES = env_int("LINK_CHECK_GONE_FAILURES", 3, minimum=1)
LINK_CHECK_GONE_DAYS = env_int("LINK_CHECK_GONE_DAYS", 7, minimum=0)
# The founders' yearly "still operating?" email, and how long its link works.
CONFIRMATION_EVERY_DAYS = env_int("CONFIRMATION_EVERY_DAYS", 365, minimum=1)
CONFIRMATION_LINK_DAYS = env_int("CONFIRMATION_LINK_DAYS", 30, minimum=1)
CONFIRMATION_BATCH = env_int("CONFIRMATION_BATCH", 500, minimum=1)
# Visitors' problem reports, per client address.
PROBLEM_REPORTS_PER_HOUR = env_int("PROBLEM_REPORTS_PER_HOUR", 5, minimum=1)

# --- Security ---------------------------------------------------------------

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The admin's address: not guessable by scripts that probe /admin/ (e.g. "review-7f3a/").
ADMIN_URL = env_str("ADMIN_URL", "admin/").strip("/") + "/"
# Request sizes (the proxy in front should refuse larger bodies first: docs/deployment.md).
# Files: logos are at most 2 MB (checked before reading), lists and logo ZIPs at most
# IMPORT_MAX_FILE_MB / IMPORT_MAX_LOGOS_MB; other form data at most 2.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Whole bodies, refused (413) before they are read (aimap/bodylimit.py): anonymous visitors
# send small forms; signed-in founders a form with a logo; staff imports have their own.
MAX_BODY_ANONYMOUS = 64 * 1024
MAX_BODY_SIGNED_IN = 8 * 1024 * 1024  # a 3 MB logo still gets its error next to the field
# Indexes with INCLUDE columns are a PostgreSQL speed-up; SQLite ignores the extra columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # A year, as `check --deploy` asks; set 0 while trying out a new domain's TLS.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS >= 31_536_000)

# --- Forms ------------------------------------------------------------------

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- The map ----------------------------------------------------------------

PROJECTS_PER_PAGE = env_int("PROJECTS_PER_PAGE", 24, minimum=1, maximum=200)
MAX_OPEN_DRAFTS = env_int("MAX_OPEN_DRAFTS", 5, minimum=1)
# Drafts (new projects and updates) a founder may start in 24 hours, withdrawn ones
# included: withdrawing cannot get round MAX_OPEN_DRAFTS (decision 0021).
MAX_NEW_DRAFTS_PER_DAY = env_int("MAX_NEW_DRAFTS_PER_DAY", 10, minimum=1)
REVIEW_APPROVALS_REQUIRED = env_int("REVIEW_APPROVALS_REQUIRED", 1, minimum=1)
AUTO_PUBLISH = env_bool("AUTO_PUBLISH", False)
# Abuse limit: submissions (new, update, claim) a founder may send in 24 hours.
MAX_SUBMISSIONS_PER_DAY = env_int("MAX_SUBMISSIONS_PER_DAY", 10, minimum=1)
# Abuse limit: saves of the submission form (drafts started, drafts saved) a founder may
# make in an hour; a save a minute for an hour is more than anyone filling in the form.
SUBMISSION_SAVES_PER_HOUR = env_int("SUBMISSION_SAVES_PER_HOUR", 60, minimum=1)
# Storage quota: the logo files (with thumbnails) a founder's drafts and submissions
# awaiting review may hold together; a stored logo takes 10 KB to 1.1 MB (decision 0021).
FOUNDER_STORAGE_MB = env_int("FOUNDER_STORAGE_MB", 5, minimum=1)
# Editor imports: rows per file, and the largest list file and logo ZIP accepted.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 10_000, minimum=1)
IMPORT_MAX_FILE_MB = env_int("IMPORT_MAX_FILE_MB", 10, minimum=1)
IMPORT_MAX_LOGOS_MB = env_int("IMPORT_MAX_LOGOS_MB", 100, minimum=1)

# --- Logging ----------------------------------------------------------------

LOG_LEVEL = env_choice("LOG_LEVEL", ("debug", "info", "warning", "error"), "info").upper()
# JSON lines in production (aimap/logs.py), readable lines while developing.
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "plain"), "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "aimap.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
