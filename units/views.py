"""The field app (SPEC §7): /field/ for a field officer's phone, its service worker (the app
shell opens with no network after one visit) and its web manifest (installable)."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_permissions_policy.decorators import permissions_policy_override

from agencies.models import AgencyMember, Kecamatan
from agencies.roles import Role, user_agency, user_role
from reports import access
from reports.live import units_data
from reports.screens import live_config as _live_config

# Version of the cached app shell: bump it when the shell's files change in a way the
# network-first fetch would not pick up (the worker refreshes every file it serves anyway).
SHELL_VERSION = "field-3"
SHELL_FILES = (
    "css/app.css",
    "css/field.css",
    "js/language.js",
    "js/live.js",
    "js/fresh.js",
    "js/field.js",
    "img/icon.svg",
    "img/icon-192.png",
    "img/apple-touch-icon.png",
)


def _geolocation_allowed(view):
    # Every other page forbids the handset's position (settings.PERMISSIONS_POLICY).
    return permissions_policy_override(
        {"geolocation": ["self"], "camera": [], "microphone": [], "payment": [], "usb": []}
    )(view)


@login_required
@never_cache
@_geolocation_allowed
def field(request: HttpRequest) -> HttpResponse:
    """A field officer's phone: sign on to a unit, the current assignment, the three steps."""
    if user_role(request.user) != Role.FIELD:
        raise PermissionDenied
    agency = user_agency(request.user)
    member = AgencyMember.objects.select_related("unit").get(user=request.user)
    units = access.units_visible_to(access.viewer_of(request)).filter(active=True)
    config = _live_config(
        request,
        agency={"code": agency.code, "short_name": agency.short_name},
        units=units_data(units),
        unit_id=member.unit_id,
        service_worker=reverse("field-sw"),
    )
    return render(request, "units/field.html", {"config": config, "agency": agency})


@login_required
def live_map(request: HttpRequest) -> HttpResponse:
    """/map/ (SPEC §8): the open incidents and the units on one map, live. The command
    centre sees the whole city; agency staff their agency's units and reports (the snapshot
    and the events are scoped as everywhere). `?wall=1`: the video-wall mode."""
    viewer = access.viewer_of(request)
    if viewer.role not in (Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_STAFF):
        raise PermissionDenied
    config = _live_config(
        request,
        own_agency=viewer.agency_code,
        kecamatan=[
            {"code": k.code, "name": k.name, "latitude": k.latitude, "longitude": k.longitude}
            for k in Kecamatan.objects.exclude(latitude=None)
        ],
        map={"tiles": settings.DISPATCH_MAP_TILES, "center": settings.DISPATCH_MAP_CENTER},
        wall=request.GET.get("wall") == "1",
    )
    return render(request, "units/map.html", {"config": config, "wall": config["wall"]})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """/field/sw.js: served from /field/ so that its scope is the field app."""
    # Every file the field page loads (base.html's too), so that it opens complete offline.
    shell = [
        reverse("field"),
        reverse("javascript-catalog"),
        reverse("field-manifest"),
        *map(static, SHELL_FILES),
    ]
    response = render(
        request,
        "units/sw.js",
        {"version": SHELL_VERSION, "shell": json.dumps(shell), "start": shell[0]},
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The field app's web manifest: installs as its own app, opening at /field/."""
    response = render(
        request,
        "units/manifest.webmanifest",
        {"start": reverse("field"), "icon": static("img/icon-192.png"),
         "icon_large": static("img/icon-512.png"), "icon_svg": static("img/icon.svg")},
        content_type="application/manifest+json",
    )  # fmt: skip
    return response
