"""/open311/v2/ (SPEC §10): the GeoReport v2 endpoints, each in JSON or XML by its suffix.

Reading is public, as the format intends (a city app shows everyone's requests); a POST needs
the app's api_key. Errors are the format's [{code, description}] with the HTTP status."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from core.throttles import wait_for

from . import open311, open311_requests
from .open311 import FORMATS, Open311Error

logger = logging.getLogger(__name__)


def _respond(fmt: str, kind: str, body, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        content = open311.to_xml(kind, body)
    else:
        content = json.dumps(body, ensure_ascii=False).encode()
    return HttpResponse(content, status=status, content_type=f"{FORMATS[fmt]}; charset=utf-8")


def _errors(fmt: str, error: Open311Error) -> HttpResponse:
    response = _respond(fmt, "errors", error.body(), status=error.status)
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response


def _throttle(request, scope: str, ident: str | None = None) -> None:
    """One more request of this address (or `ident`) in `scope`: 429 past its limit."""
    if (seconds := wait_for(request, scope, ident)) is not None:
        raise open311.too_many(seconds)


def _guarded(view):
    """The door: every request counted per address, control characters refused in any
    parameter or path part (SPEC §13), an Open311Error answered in the format's shape."""

    def wrapper(request, *args, fmt: str, **kwargs):
        try:
            _throttle(request, "open311")
            open311.check_control_characters(request.GET, **kwargs)
            if request.method == "POST":
                open311.check_control_characters(request.POST)
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as error:
            return _errors(fmt, error)

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return wrapper


@require_GET
@_guarded
def discovery(request, fmt: str):
    changeset = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    base = request.build_absolute_uri(reverse("open311-root"))
    body = open311.discovery(base, changeset, settings.DISPATCH_OPEN311_CONTACT)
    return _respond(fmt, "discovery", body)


@require_GET
@_guarded
def service_list(request, fmt: str):
    return _respond(fmt, "services", [open311.service_item(c) for c in open311_requests.services()])


@require_GET
@_guarded
def service_definition(request, code: str, fmt: str):
    category = open311_requests.service(code)
    return _respond(fmt, "service_definition", {"service_code": category.code, "attributes": []})


@csrf_exempt  # an app's POST carries its api_key, not a browser session
@require_http_methods(["GET", "POST"])
@_guarded
def requests(request, fmt: str):
    if request.method == "POST":
        # The key ships inside citizen apps, so it is public: what one key may post is
        # limited, and so is what one address may post or guess (issue 33).
        _throttle(request, "open311_post")
        try:
            client = open311_requests.client_for((request.POST.get("api_key") or "").strip())
        except Open311Error:
            _throttle(request, "refused_key")
            raise
        _throttle(request, "open311_key", f"open311-client-{client.pk}")
        report = open311_requests.request_create(client, request.POST)
        logger.info("Open311 request %s from %s", report.number, client.code)
        return _respond(fmt, "requests", [open311.created_item(report)], status=201)
    query = open311.parse_query(request.GET, timezone.now())
    items = [open311.request_item(r) for r in open311_requests.requests_matching(query)]
    return _respond(fmt, "requests", items)


@require_GET
@_guarded
def request_detail(request, number: str, fmt: str):
    report = open311_requests.request_detail(number)
    return _respond(fmt, "requests", [open311.request_item(report)])


@require_GET
def root(request):
    """The base URL: its discovery document, in JSON."""
    return discovery(request, fmt="json")
