"""/api/v1/alerts/: the official warnings (CAP) shown now on the board and the console."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch112.api import IsCommandCentre

from .live import alert_frame, shown_alerts


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
