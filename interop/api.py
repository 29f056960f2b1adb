"""The API of SPEC §10: /api/v1/alerts/ (the official warnings, CAP, shown now on the board
and the console); a report's EIDO, its handover to a peer centre, and the EIDO import."""

from django.shortcuts import get_object_or_404
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied, Throttled
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.permissions import IsCommandCentre
from agencies.roles import Role, user_role
from core.throttles import PeerCentreThrottle, wait_for
from reports import access

from . import eido, handover
from .live import alert_frame, shown_alerts
from .models import PeerCentre


class CapAlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    headline = serializers.CharField()
    description = serializers.CharField()
    instruction = serializers.CharField()
    severity = serializers.CharField()
    urgency = serializers.CharField()
    certainty = serializers.CharField()
    sender_name = serializers.CharField()
    area = serializers.CharField()
    effective = serializers.DateTimeField(allow_null=True)
    onset = serializers.DateTimeField(allow_null=True)
    expires = serializers.DateTimeField(allow_null=True)
    web = serializers.CharField()


class CapAlertListView(APIView):
    """The CAP alerts for this city that are in force: not expired, cancelled or replaced;
    newest first."""

    permission_classes = [IsCommandCentre]

    @extend_schema(responses={200: CapAlertSerializer(many=True)})
    def get(self, request):
        alerts = [alert_frame(alert) for alert in shown_alerts().order_by("-sent")[:50]]
        return Response(CapAlertSerializer(alerts, many=True).data)


# --- EIDO (SPEC §10): export, handover, import --------------------------------------------------


class PeerTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>` where the key is a peer centre's inbound token. The
    request's user is the centre's service account (no role: it reaches nothing else) and its
    auth is the PeerCentre."""

    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise AuthenticationFailed(_("Invalid token header."))
        try:
            key = header[1].decode()
        except UnicodeError as error:
            raise AuthenticationFailed(_("Invalid token header.")) from error
        peer = PeerCentre.objects.filter(inbound_token=key, active=True).select_related("account")
        peer = peer.first()
        if peer is None or not constant_time_compare(peer.inbound_token, key):
            # Guessing tokens is slowed per address, as Open311's keys are (issue 33).
            if (seconds := wait_for(request, "refused_key")) is not None:
                raise Throttled(wait=seconds)
            raise AuthenticationFailed(_("This token is not a peer centre's."))
        return peer.account, peer

    def authenticate_header(self, request):
        return self.keyword


class IsPeerCentre(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, PeerCentre)


class PeerCentreSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class HandoverSerializer(serializers.Serializer):
    centre = serializers.CharField(max_length=32, help_text="The peer centre's code.")


class HandoverResultSerializer(serializers.Serializer):
    report = serializers.CharField(help_text="This centre's report number, now closed.")
    centre = serializers.CharField()
    peer_number = serializers.CharField(help_text="The peer centre's number for it.")


class ReceivedSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="This centre's number for the incident.")
    id = serializers.IntegerField()
    created = serializers.BooleanField(help_text="False: the same incident was sent before.")


class PeerCentreListView(APIView):
    """The peer centres a report can be handed over to."""

    permission_classes = [IsCommandCentre]

    @extend_schema(responses={200: PeerCentreSerializer(many=True)})
    def get(self, request):
        peers = PeerCentre.objects.filter(active=True).order_by("name")
        return Response(PeerCentreSerializer(peers, many=True).data)


class ReportEidoView(APIView):
    """The report as an EIDO (NENA-STA-021 JSON): incident, calls, location, agencies, units
    with their statuses, notes. The command centre's: it carries the caller's number."""

    permission_classes = [IsCommandCentre]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        visible = access.reports_visible_to(access.viewer_of(request))
        report = get_object_or_404(visible.select_related("category", "kecamatan"), pk=pk)
        return Response(eido.export(report))


class ReportHandoverView(APIView):
    """Sends the report to a peer centre (EIDO) and, once it has answered with its number,
    closes it here as handed_over. An unreachable or refusing centre: 502, report still open."""

    permission_classes = [IsCommandCentre]

    @extend_schema(request=HandoverSerializer, responses={200: HandoverResultSerializer})
    def post(self, request, pk: int):
        report = get_object_or_404(access.reports_visible_to(access.viewer_of(request)), pk=pk)
        if user_role(request.user) != Role.OPERATOR:
            raise PermissionDenied  # before reading the body: a role problem is not a 400
        data = HandoverSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            attempt = handover.hand_over(
                actor=request.user, report=report, centre=data.validated_data["centre"]
            )
        except handover.HandoverFailed as error:
            return Response(
                {"detail": str(error), "code": "handover_failed"},
                status=status.HTTP_502_BAD_GATEWAY,
            )
        return Response(
            {
                "report": report.number,
                "centre": attempt.peer.name,
                "peer_number": attempt.peer_number,
            }
        )


class EidoImportView(APIView):
    """A peer centre hands a report to this one: an EIDO, with the token this centre gave it.
    201 with this centre's number; 200 with the same number if the incident came before."""

    authentication_classes = [PeerTokenAuthentication]
    permission_classes = [IsPeerCentre]
    throttle_classes = [PeerCentreThrottle]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: ReceivedSerializer})
    def post(self, request):
        try:
            received = handover.receive(peer=request.auth, document=request.data)
        except eido.EidoError as error:
            return Response(
                {
                    "detail": _("This is not an EIDO this centre can take."),
                    "errors": error.problems,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        body = {
            "number": received.report.number,
            "id": received.report.pk,
            "created": received.created,
        }
        return Response(
            body, status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK
        )


class PeerTokenScheme(OpenApiAuthenticationExtension):
    """How the schema documents PeerTokenAuthentication."""

    target_class = "interop.api.PeerTokenAuthentication"
    name = "peerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: the inbound token this centre gave the peer centre.",
        }
