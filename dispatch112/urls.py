from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dispatch112 import operations, views
from telephony import views as telephony_views
from units import views as unit_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", operations.metrics_view, name="metrics"),
    path("status/", operations.status, name="status"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("console/", views.console, name="console"),
    path("agency/", views.agency_dashboard, name="agency-dashboard"),
    path("agency/history/", views.agency_history, name="agency-history"),
    path("agency/handover/", views.agency_handover, name="agency-handover"),
    path("board/", views.board, name="board"),
    path("field/", include("units.urls")),
    path("map/", unit_views.live_map, name="live-map"),
    path("performance/", include("performance.urls")),
    path(
        "performance/answering.csv",
        telephony_views.export_answering_csv,
        name="performance-answering-csv",
    ),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("dispatch112.api_urls")),
    path("open311/v2/", include("interop.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script as a file (no inline script under the CSP);
    # its page keeps a small inline <style>, and holds no data.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
