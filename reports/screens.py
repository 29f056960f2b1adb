"""What every live screen (console, agency desk, board, field app, map) is given besides the
websocket: the user, the server's clock, the agencies and the labels of every status in the
page's language."""

from django.http import HttpRequest
from django.utils import timezone

from agencies.api import AgencySerializer
from agencies.models import Agency, UnitKind, UnitStatus

from .models import AssignmentStatus, CallOutcome, CloseReason


def live_config(request: HttpRequest, **extra) -> dict:
    """What every live screen needs besides the websocket: names, targets, labels."""
    return {
        "username": request.user.get_username(),
        "server_time": timezone.now().isoformat(),
        "agencies": AgencySerializer(Agency.objects.all(), many=True).data,
        # Labels in the page's language, from the same choices the models use.
        "labels": {
            "assignment": {str(k): str(v) for k, v in AssignmentStatus.choices},
            "outcome": {str(k): str(v) for k, v in CallOutcome.choices},
            "close": {str(k): str(v) for k, v in CloseReason.choices},
            "unit": {str(k): str(v) for k, v in UnitStatus.choices},
            "kind": {str(k): str(v) for k, v in UnitKind.choices},
        },
        **extra,
    }
