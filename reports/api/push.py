"""/api/v1/push/ — Web Push on a device (SPEC §12, issue 40 §4): the browser of agency staff or
of a field officer hands in its PushSubscription, takes it back, and reads the server's key to
subscribe with. Thin: the serializers check types and sizes, notifications.webpush the Web
Push format; who is pushed for what is reports.push's. Also the agency desk's service worker,
which only shows those messages (the field app's is its own, units.views)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.permissions import HasRole
from agencies.roles import Role
from core.fields import Text
from core.validation import CONTROL_CHARACTERS
from notifications import vapid, webpush


class MayBePushed(HasRole):
    """The people whose work comes to them: agency staff (new assignments) and field officers
    (their unit's dispatch). The command centre watches its screens."""

    roles = frozenset({Role.AGENCY_STAFF, Role.FIELD})


class PushKeysSerializer(serializers.Serializer):
    p256dh = Text(max_length=100, help_text="The browser's P-256 public key, base64url.")
    auth = Text(max_length=50, help_text="The browser's 16-byte auth secret, base64url.")


class PushSubscriptionSerializer(serializers.Serializer):
    """A browser's `PushSubscription.toJSON()` (its expirationTime is not needed)."""

    endpoint = Text(max_length=1000, help_text="The push service's https:// address for it.")
    keys = PushKeysSerializer()


class PushEndpointSerializer(serializers.Serializer):
    endpoint = Text(max_length=1000)


class PushKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(
        help_text="The VAPID application server key (base64url, uncompressed P-256 point)."
    )


class PushSubscriptionView(APIView):
    """This device's subscription, for the signed-in user: POST keeps it (201 new, 200 known:
    a browser where someone else signed in before now notifies this user), DELETE forgets it
    (204, also when it was not kept)."""

    permission_classes = [MayBePushed]

    @extend_schema(
        request=PushSubscriptionSerializer,
        responses={200: PushEndpointSerializer, 201: PushEndpointSerializer},
    )
    def post(self, request):
        data = PushSubscriptionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webpush.clean_subscription(
            data.validated_data["endpoint"],
            data.validated_data["keys"]["p256dh"],
            data.validated_data["keys"]["auth"],
        )
        created = webpush.subscription_save(
            user=request.user, subscription=subscription, device=_device(request)
        )
        return Response(
            {"endpoint": subscription.endpoint},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=PushEndpointSerializer, responses={204: None})
    def delete(self, request):
        data = PushEndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webpush.subscription_delete(user=request.user, endpoint=data.validated_data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushKeyView(APIView):
    """The key a browser subscribes with (`applicationServerKey`)."""

    permission_classes = [MayBePushed]

    @extend_schema(responses={200: PushKeySerializer})
    def get(self, request):
        return Response({"public_key": vapid.application_server_key()})


def _device(request) -> str:
    """Which browser on which device, to tell a user's subscriptions apart (the admin)."""
    agent = request.headers.get("User-Agent", "")
    return CONTROL_CHARACTERS.sub("", agent)[:200]


@require_GET
def desk_service_worker(request: HttpRequest) -> HttpResponse:
    """/api/v1/push/worker.js: the agency desk's service worker. Served here, it may still
    control /agency/ because its Service-Worker-Allowed header says so; it shows Web Push
    messages and opens their card on a tap, and caches nothing."""
    script = f'"use strict";\nimportScripts({json.dumps(static("js/push_sw.js"))});\n'
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("agency-dashboard")
    response["Cache-Control"] = "no-cache"
    return response
