"""Signing in to and out of the API."""

from axes.utils import reset
from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.revocation import signed_out
from core.api import JSONParser


class TokenView(ObtainAuthToken):
    """`POST {"username", "password"}` → `{"token"}`. Failures count towards the login
    lockout (django-axes, 429 when locked out); a success clears them, as a browser login
    does."""

    parser_classes = [JSONParser, FormParser]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        reset(ip=getattr(request, "axes_ip_address", None), username=user.get_username())
        return Response({"token": token.key})


class LogoutView(APIView):
    """Signs out: deletes the caller's API token and closes its websockets; a browser
    session is ended as /accounts/logout/ ends it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.successful_authenticator, SessionAuthentication):
            logout(request._request)  # user_logged_out → signed_out(user, its session)
        else:
            signed_out(request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
