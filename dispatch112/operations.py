"""The operations pages (SPEC §12, issue 40 §5): GET /metrics for Prometheus, and /status/, the
same figures for the command centre's supervisors and operators, in words."""

from __future__ import annotations

import hmac
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from agencies.models import Agency
from agencies.roles import Role, user_role
from notifications import presence

from . import metrics

STATUS_REFRESH_SECONDS = 10


@lru_cache(maxsize=4)
def _networks(entries: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())
    except ValueError as error:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {error}") from None


def may_scrape(request: HttpRequest) -> bool:
    """The token, compared in constant time, or an address in METRICS_ALLOWED_IPS. The address
    is REMOTE_ADDR, never X-Forwarded-For (which anyone can send): behind a proxy, the token."""
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    bearer = scheme.lower() == "bearer"
    if token and bearer and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    try:
        address = ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None) is not None:  # ::ffff:127.0.0.1
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: Prometheus' text format (or OpenMetrics when asked for). 403 without a
    word to anyone else."""
    if not may_scrape(request):
        return HttpResponse(status=403)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(metrics.collector()), content_type=content_type)


@never_cache
@login_required
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """/status/: is the live delivery healthy? For the command centre (supervisors and
    operators); refreshed every STATUS_REFRESH_SECONDS."""
    if user_role(request.user) not in (Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied
    centre = metrics.centre_figures()
    transport = metrics.transport_figures()
    online = presence.current()
    agencies = [
        {
            "code": agency.code,
            "name": agency.name,
            "short_name": agency.short_name,
            "phone": agency.phone,
            "desk": online.get(agency.code, {}).get("desk", 0),
            "field": online.get(agency.code, {}).get("field", 0),
        }
        for agency in sorted(Agency.objects.filter(active=True), key=lambda a: a.short_name.lower())
    ]
    command_centre = {
        role: sum(n for (r, _), n in transport.sockets.items() if r == role)
        for role in (Role.OPERATOR, Role.SUPERVISOR)
    }
    age = centre.sweep_age_seconds if centre else None
    context = {
        "now": timezone.now(),
        "refresh": STATUS_REFRESH_SECONDS,
        "centre": centre,
        "sweep_age": None if age is None else int(age),
        "sweep_minutes": None if age is None else int(age // 60),
        "sweep_late": metrics.sweep_is_late(age),
        "sweep_limit": f"{3 * settings.DISPATCH_SWEEP_SECONDS:g}",
        "events_published": int(transport.events_published),
        "layer_errors": int(transport.channel_layer_errors),
        "deliveries": transport.deliveries,
        "p50_ms": _ms(transport.delivery_p50),
        "p99_ms": _ms(transport.delivery_p99),
        "agencies": agencies,
        "desks_total": sum(a["desk"] for a in agencies),
        "field_total": sum(a["field"] for a in agencies),
        "nobody": sum(1 for a in agencies if not a["desk"]),
        "operators": command_centre[Role.OPERATOR],
        "supervisors": command_centre[Role.SUPERVISOR],
        "multiprocess": metrics.multiprocess_dir() is not None,
    }
    return render(request, "operations/status.html", context)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)
