"""/api/v1/ — SPEC §4."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from agencies.api import AgencyViewSet, CategoryViewSet, KecamatanViewSet
from dispatch112.auth_views import LogoutView, TokenView
from interop.api import (
    CapAlertListView,
    EidoImportView,
    PeerCentreListView,
    ReportEidoView,
    ReportHandoverView,
)
from performance.api import AgencyPerformanceView
from reports.api.push import PushKeyView, PushSubscriptionView, desk_service_worker
from reports.api.views import AssignmentViewSet, CallViewSet, ReportViewSet
from telephony.api import AmlView, AnsweringStatsView, CallDismissView, CallEventView
from units.api.views import AssignmentUnitsView, UnitViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("agencies", AgencyViewSet)
router.register("categories", CategoryViewSet)
router.register("kecamatan", KecamatanViewSet)
router.register("reports", ReportViewSet, basename="report")
router.register("calls", CallViewSet, basename="call")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("units", UnitViewSet, basename="unit")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("stats/agencies/", AgencyPerformanceView.as_view(), name="agency-performance"),
    path("stats/answering/", AnsweringStatsView.as_view(), name="answering-stats"),
    path("assignments/<int:pk>/units/", AssignmentUnitsView.as_view(), name="assignment-units"),
    path("telephony/events/", CallEventView.as_view(), name="telephony-events"),
    path(
        "telephony/calls/<str:call_id>/dismiss/",
        CallDismissView.as_view(),
        name="telephony-call-dismiss",
    ),
    path("aml/", AmlView.as_view(), name="aml"),
    path("alerts/", CapAlertListView.as_view(), name="cap-alerts"),
    path("centres/", PeerCentreListView.as_view(), name="peer-centres"),
    path("reports/<int:pk>/eido/", ReportEidoView.as_view(), name="report-eido"),
    path("reports/<int:pk>/handover/", ReportHandoverView.as_view(), name="report-handover"),
    path("eido/", EidoImportView.as_view(), name="eido-import"),
    # Web Push on a device (SPEC §12, issue 40 §4).
    path("push/subscriptions/", PushSubscriptionView.as_view(), name="push-subscriptions"),
    path("push/key/", PushKeyView.as_view(), name="push-key"),
    path("push/worker.js", desk_service_worker, name="push-worker"),
    path("", include(router.urls)),
]
