"""What a locked-out login sees (django-axes, settings AXES_*): the login page again with a
clear message, status 429; the API's token endpoint answers 429 JSON."""

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import Throttled
from rest_framework.request import Request


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed logins for this account from this computer. Try again in "
        "%(minutes)d minutes, or ask a supervisor to unlock it."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE. (axes 8.3 calls it with (request, credentials) from its async
    middleware, so `credentials` may arrive second: the username is read from the form.)"""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": lockout_message(), "code": "locked_out"},
            status=settings.AXES_HTTP_RESPONSE_CODE,
        )
    username = request.POST.get("username", "")
    return render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request, initial={"username": username}),
            "locked_out": lockout_message(),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class LockedOut(Throttled):
    default_code = "locked_out"


@receiver(user_locked_out, dispatch_uid="dispatch112-api-lockout")
def _api_lockout(sender, request=None, **kwargs):
    # DRF's AuthTokenSerializer authenticates with DRF's Request, on which axes flags the
    # lockout where its middleware cannot see it: answer 429 from the view instead.
    if isinstance(request, Request):
        raise LockedOut(detail=lockout_message())
