"""Signing out of the API."""

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.revocation import signed_out


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
