"""/api/v1/telephony/events/ and /api/v1/aml/ (SPEC §9): posted by the phone system's service
account (role `telephony`, token auth) and by nobody else; /api/v1/stats/answering/, the call
answering KPI, read by the command centre. Thin: parse, call telephony.services or
telephony.answering, answer."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser, FormParser
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.permissions import HasRole, IsCommandCentre, IsOperator
from agencies.roles import Role
from core.api import JSONParser
from core.fields import AwareDateTime, Text
from core.throttles import TelephonyThrottle
from performance.api import PerformanceFilterSerializer, performance_filter

from . import services
from .answering import answering
from .models import AmlStatus, CallEventKind


class IsTelephony(HasRole):
    roles = frozenset({Role.TELEPHONY})


class CallEventSerializer(serializers.Serializer):
    call_id = Text(max_length=100, help_text="The PBX's id of the call (Asterisk Linkedid).")
    event = serializers.ChoiceField(choices=CallEventKind.choices)
    caller_phone = Text(max_length=40, required=False, allow_blank=True, default="")
    extension = Text(max_length=16, required=False, allow_blank=True, default="")
    at = AwareDateTime(
        required=False, allow_null=True, help_text="When it happened (default: on receipt)."
    )


class PhoneCallSerializer(serializers.Serializer):
    call_id = serializers.CharField()
    state = serializers.CharField()
    caller_phone = serializers.CharField()
    extension = serializers.CharField()
    operator = serializers.CharField(allow_null=True)
    ringing_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    ring_seconds = serializers.FloatField(allow_null=True)
    talk_seconds = serializers.FloatField(allow_null=True)
    repeated = serializers.BooleanField(help_text="True: this (call_id, event) was already in.")


class CallEventView(APIView):
    """One PBX event: `ringing` pops on the console of the operator at `extension` (every
    operator's without one), `answered` opens the call there, `ended` closes it (never
    answered: an abandoned call). A repeated (call_id, event) changes nothing (200). JSON,
    or a form as Asterisk's CURL() posts it (README)."""

    permission_classes = [IsTelephony]
    parser_classes = [JSONParser, FormParser]
    # Counted per token at a machine's pace: a surge of calls must not meet a person's limit.
    throttle_classes = [TelephonyThrottle]

    @extend_schema(request=CallEventSerializer, responses={201: PhoneCallSerializer})
    def post(self, request):
        data = CallEventSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call, new = services.call_event(actor=request.user, **data.validated_data)
        body = {
            "call_id": call.call_id,
            "state": call.state,
            "caller_phone": call.caller_phone,
            "extension": call.extension,
            "operator": call.operator.get_username() if call.operator_id else None,
            "ringing_at": call.ringing_at,
            "answered_at": call.answered_at,
            "ended_at": call.ended_at,
            "ring_seconds": call.ring_seconds,
            "talk_seconds": call.talk_seconds,
            "repeated": not new,
        }
        answer = PhoneCallSerializer(body).data
        return Response(answer, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)


class DismissedCallSerializer(serializers.Serializer):
    call_id = serializers.CharField()
    state = serializers.CharField()
    dismissed_at = serializers.DateTimeField()
    dismissed_by = serializers.CharField()


class CallDismissView(APIView):
    """An operator takes an abandoned call off the consoles (called back, or nothing to do):
    recorded with who and when, gone from every console it showed on, also after a reload.
    Dismissing it again answers the same."""

    permission_classes = [IsOperator]

    @extend_schema(request=None, responses={200: DismissedCallSerializer})
    def post(self, request, call_id: str):
        call = services.phone_call_dismiss(actor=request.user, call_id=call_id)
        body = {
            "call_id": call.call_id,
            "state": call.state,
            "dismissed_at": call.dismissed_at,
            "dismissed_by": call.dismissed_by.get_username(),
        }
        return Response(DismissedCallSerializer(body).data)


class PlainTextParser(BaseParser):
    """An SMS gateway that posts the SMS text as the body (`?sender=` in the query)."""

    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"sms": stream.read(20000).decode("utf-8", errors="replace")}


class AmlMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AmlStatus.choices)
    format = serializers.CharField()
    caller_phone = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    accuracy_m = serializers.FloatField(allow_null=True)
    positioning = serializers.CharField()
    located_at = serializers.DateTimeField(allow_null=True)
    call = serializers.IntegerField(allow_null=True, source="call_id")


class AmlView(APIView):
    """An Advanced Mobile Location message (ETSI TS 103 625): the HTTPS form's fields
    (form-encoded or JSON), or the SMS text as `sms` with the originating number as `sender`
    (or a text/plain body with `?sender=`). Accepted (201) or no fix (201, no position);
    malformed → 400 naming the field, and the message is kept as rejected."""

    permission_classes = [IsTelephony]
    parser_classes = [FormParser, JSONParser, PlainTextParser]
    throttle_classes = [TelephonyThrottle]

    @extend_schema(request=None, responses={201: AmlMessageSerializer})
    def post(self, request):
        data = request.data
        if not hasattr(data, "get"):
            return Response(
                {"non_field_errors": ["Send the HTTPS form's fields or `sms`."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        sms = data.get("sms")
        sender = data.get("sender") or request.query_params.get("sender", "")
        if sms is not None:
            message = services.aml_receive(
                actor=request.user, sms=sms, sender=sender if isinstance(sender, str) else ""
            )
        else:
            form = {key: data.get(key) for key in data}
            message = services.aml_receive(actor=request.user, form=form)
        if message.status == AmlStatus.REJECTED:
            return Response(
                {message.error_field: [message.error], "id": message.pk},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(AmlMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class AnsweringFiguresSerializer(serializers.Serializer):
    offered = serializers.IntegerField(help_text="Calls that rang.")
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField(help_text="Rang and ended without an answer.")
    abandoned_pct = serializers.FloatField(allow_null=True)
    ring_seconds_median = serializers.FloatField(allow_null=True)
    ring_seconds_p90 = serializers.FloatField(allow_null=True)
    within_target = serializers.IntegerField(help_text="Answered within target_seconds.")
    within_target_pct = serializers.FloatField(
        allow_null=True, help_text="Of the calls answered or abandoned."
    )
    meets_target = serializers.BooleanField(allow_null=True, help_text="≥ target_pct.")


class AnsweringHourSerializer(AnsweringFiguresSerializer):
    hour = serializers.IntegerField(help_text="WIB hour of the day, 0–23.")


class AnsweringOperatorSerializer(AnsweringFiguresSerializer):
    operator = serializers.CharField(allow_null=True, help_text="null: rang at no extension.")
    operator_name = serializers.CharField(allow_null=True)


class AnsweringSerializer(serializers.Serializer):
    target_seconds = serializers.IntegerField()
    target_pct = serializers.IntegerField()
    total = AnsweringFiguresSerializer()
    by_hour = AnsweringHourSerializer(many=True)
    by_operator = AnsweringOperatorSerializer(many=True)


class AnsweringStatsView(APIView):
    """The call answering KPI (SPEC §9, NENA: 90 % answered within 15 s) for WIB days
    since–until (default this month): calls offered, answered, abandoned, ring → answer
    median and p90, share within 15 s; in total, per hour of the day and per operator."""

    permission_classes = [IsCommandCentre]

    @extend_schema(parameters=[PerformanceFilterSerializer], responses={200: AnsweringSerializer})
    def get(self, request):
        return Response(
            AnsweringSerializer(answering(performance_filter(request.query_params))).data
        )
