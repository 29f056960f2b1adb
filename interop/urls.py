"""/open311/v2/: Open311 GeoReport v2 (SPEC §10). Every resource ends in .json or .xml."""

from django.urls import path, register_converter

from . import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "open311format")

urlpatterns = [
    path("", views.root, name="open311-root"),
    path("discovery.<open311format:fmt>", views.discovery, name="open311-discovery"),
    path("services.<open311format:fmt>", views.service_list, name="open311-services"),
    path(
        "services/<slug:code>.<open311format:fmt>",
        views.service_definition,
        name="open311-service",
    ),
    path("requests.<open311format:fmt>", views.requests, name="open311-requests"),
    path(
        "requests/<str:number>.<open311format:fmt>",
        views.request_detail,
        name="open311-request",
    ),
]
