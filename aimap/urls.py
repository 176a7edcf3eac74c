from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from aimap import health, views
from aimap.auth import admin_login

admin.site.site_header = _("AI Innovation Map — Review")
# The admin's login: a founder's right password counts as a failure (AdminLoginForm), and a
# right one goes on through allauth's login flow (a two-factor code next, where activated).
admin.site.login = admin_login
admin.site.site_title = _("AI Innovation Map — Review")
admin.site.index_title = _("AI Innovation Map — Review")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),  # the process answers
    path("readyz", health.readyz, name="readyz"),  # database, cache, the task queue
    path("stats/", views.stats, name="stats"),  # public counts and the review's decisions
    path("", include("registry.urls")),
    path("", include("review.urls")),
    path("accounts/", include("allauth.urls")),
    path("language/<str:code>/", views.switch_language, name="switch-language"),
    path("tracks.css", views.track_styles, name="track-styles"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler500 = "aimap.views.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
