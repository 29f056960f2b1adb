"""Handing a report to another 112 centre, and taking one from it (SPEC §10, EIDO).

`hand_over` sends the report's EIDO to the peer's POST /api/v1/eido/ with the token it gave
us; only once the peer answers with its own number is the report closed here, as
handed_over with that number in its close note. A peer that is unreachable, slow or refusing
leaves the report open and the operator gets a clear error; every attempt is a Handover row.

`receive` is the other side: a valid EIDO from a configured peer becomes a report routed as
usual (source eido, origin "<centre>: <its number>"). The same incident sent twice (a retry
after a lost answer) gives the report already made."""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from agencies.models import Agency, Category
from agencies.roles import Role, user_role
from core.errors import ActionForbidden, TransitionNotAllowed
from reports import access
from reports import services as report_services
from reports.models import Report, ReportSource, ReportStatus

from . import eido
from .models import Handover, HandoverOutcome, PeerCentre, ReceivedIncident

logger = logging.getLogger("interop.eido")
# No proxy from the environment: peer centres are reached directly (as CAP feeds are not).
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
MAX_ANSWER_BYTES = 64 * 1024


class HandoverFailed(Exception):
    """The peer did not take the report; the message says why, for the operator."""


# --- Out -----------------------------------------------------------------------------------------


def hand_over(*, actor, report: Report | int, centre: str) -> Handover:
    if user_role(actor) != Role.OPERATOR:
        raise ActionForbidden(_("Your role may not do this."))
    visible = access.reports_visible_to(access.as_viewer(actor))
    report = visible.select_related("category", "kecamatan").get(
        pk=report.pk if isinstance(report, Report) else report
    )
    if report.status != ReportStatus.OPEN:
        raise TransitionNotAllowed(
            _("Report %(number)s is already closed.") % {"number": report.number}
        )
    peer = PeerCentre.objects.filter(code=centre or "", active=True).first()
    if peer is None:
        raise ValidationError({"centre": [_("Choose one of the centres configured for handover.")]})
    document = eido.export(report, status="HandedOver")
    message_id = f"{document['$id']}@{document['lastUpdateTimeStamp']}"[-100:]
    attempt = Handover(report=report, peer=peer, actor=actor, message_id=message_id)
    try:
        number = _send(peer, document)
    except HandoverFailed as error:
        attempt.outcome, attempt.error = HandoverOutcome.FAILED, str(error)[:500]
        attempt.save()
        logger.warning("Handover of %s to %s failed: %s", report.number, peer.code, error)
        raise
    attempt.outcome, attempt.peer_number = HandoverOutcome.ACCEPTED, number
    try:
        with transaction.atomic():
            report_services.report_hand_over(
                actor=actor,
                report=report,
                note=_("Handed over to %(centre)s as %(number)s.")
                % {"centre": peer.name, "number": number},
            )
            attempt.save()
    except TransitionNotAllowed as error:
        # Closed here (by a colleague) while the peer was answering: the peer has it all the
        # same. Kept as accepted, and the operator is told to settle it with the peer.
        attempt.error = str(error)[:500]
        attempt.save()
        logger.warning("Report %s closed here while %s took it as %s", report.number, peer.code,
                       number)  # fmt: skip
        raise TransitionNotAllowed(
            _(
                "%(centre)s took the report as %(number)s, but it was closed here meanwhile: "
                "tell %(centre)s whether it is still theirs."
            )
            % {"centre": peer.name, "number": number}
        ) from error
    logger.info("Report %s handed over to %s as %s", report.number, peer.code, number)
    return attempt


def _send(peer: PeerCentre, document: dict) -> str:
    """POSTs the EIDO; the peer's number for the report, or HandoverFailed."""
    url = peer.url.rstrip("/") + "/api/v1/eido/"
    request = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        method="POST",
        headers={
            "Authorization": f"Token {peer.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    name = peer.name
    try:
        with _http.open(request, timeout=settings.DISPATCH_HANDOVER_TIMEOUT_SECONDS) as response:
            answer = _json(response.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as error:
        answer = _json(error.read(MAX_ANSWER_BYTES))
        if error.code in (401, 403):
            reason = _("it refused our token (HTTP %(status)d): check the token set for it.")
        else:
            reason = _("it refused the report (HTTP %(status)d)")
        detail = _first_message(answer)
        message = _("%(centre)s did not take the report: %(reason)s") % {
            "centre": name,
            "reason": reason % {"status": error.code},
        }
        raise HandoverFailed(f"{message}{f' — {detail}' if detail else ''}") from error
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise HandoverFailed(
            _("%(centre)s could not be reached (%(reason)s). The report stays open here.")
            % {"centre": name, "reason": _unreachable(error)}
        ) from error
    number = answer.get("number") if isinstance(answer, dict) else None
    if not isinstance(number, str) or not number.strip():
        raise HandoverFailed(
            _("%(centre)s answered without its number for the report.") % {"centre": name}
        )
    return number.strip()[:64]


def _first_message(answer) -> str | None:
    """What the peer said: its `detail`, or its first field error."""
    if isinstance(answer, dict):
        if isinstance(answer.get("detail"), str):
            errors = answer.get("errors") or []
            where = errors[0] if errors and isinstance(errors[0], dict) else {}
            extra = f" ({where.get('path')}: {where.get('message')})" if where else ""
            return answer["detail"] + extra
        for field, messages in answer.items():
            if isinstance(messages, list) and messages and isinstance(messages[0], str):
                return f"{field}: {messages[0]}"
    return None


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


# --- In ------------------------------------------------------------------------------------------


@dataclass
class Received:
    report: Report
    created: bool


def receive(*, peer: PeerCentre, document) -> Received:
    """A peer's EIDO as a report here (EidoError if it is not one, ValidationError if its
    fields do not make a report)."""
    incoming = eido.read(
        document,
        categories=dict(Category.objects.filter(active=True).values_list("code", "name")),
        agencies=set(Agency.objects.filter(active=True).values_list("code", flat=True)),
    )
    known = ReceivedIncident.objects.filter(peer=peer, incident_id=incoming.incident_id)
    if (existing := known.select_related("report").first()) is not None:
        return Received(existing.report, created=False)
    try:
        with transaction.atomic():
            report = report_services.report_receive(
                actor=peer.account,
                source=ReportSource.EIDO,
                origin=_origin(peer, incoming),
                attach=lambda report: ReceivedIncident.objects.create(
                    report=report,
                    peer=peer,
                    incident_id=incoming.incident_id,
                    message_id=incoming.message_id,
                    document=document,
                ),
                **incoming.fields,
            )
    except IntegrityError:  # the same incident, sent twice at once: the other one won
        return Received(known.select_related("report").get().report, created=False)
    logger.info("Report %s received from %s (%s)", report.number, peer.code, incoming.incident_id)
    return Received(report, created=True)


def _origin(peer: PeerCentre, incoming: eido.Incoming) -> str:
    """The peer and its number for the incident; from another CAD (no number of its own in
    the EIDO), the sending agency and the incident's identifier."""
    if incoming.number:
        return f"{peer.name}: {incoming.number}"[:200]
    return f"{peer.name} ({incoming.sender}): {incoming.reference}"[:200]


def _unreachable(error: Exception) -> str:
    """Why a peer could not be reached, in words for the operator: never the exception's text
    ("[Errno 111] Connection refused" is no reason a person can act on)."""
    reason = getattr(error, "reason", error)
    if isinstance(reason, TimeoutError) or isinstance(error, TimeoutError):
        return _("no answer within %(seconds)s s") % {
            "seconds": f"{settings.DISPATCH_HANDOVER_TIMEOUT_SECONDS:g}"
        }
    if isinstance(reason, ConnectionRefusedError):
        return _("nothing answers at its address")
    if isinstance(reason, socket.gaierror):
        return _("its address cannot be found: check the URL set for it")
    return _("the network failed on the way")
