"""Signing out and deactivation revoke access at once (issue 7 §2): API tokens stop working
and the matching websockets are closed with 4401. Real websocket clients on the configured
channel layer (in-memory, or Redis in CI's second pass)."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from dispatch112.asgi import application
from tests.api.conftest import JsonClient

from .test_events_consumer import ORIGIN, connect, run

pytestmark = pytest.mark.django_db(transaction=True)


def token_headers(token: Token):
    return [(b"authorization", f"Token {token.key}".encode())]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cookie_headers(client: Client):
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), ORIGIN]


async def closed_with(communicator: WebsocketCommunicator, timeout=2) -> int | None:
    """The close code the server sent, skipping any message before it; None if none came."""
    while True:
        try:
            output = await communicator.receive_output(timeout=timeout)
        except TimeoutError:
            return None
        if output["type"] == "websocket.close":
            # Answered as a browser (and Daphne) does, so the consumer ends as it would in
            # production rather than being cancelled when the test's event loop closes.
            await communicator.send_input({"type": "websocket.disconnect", "code": output["code"]})
            await communicator.wait(timeout=timeout)
            return output["code"]


async def stays_open(communicator: WebsocketCommunicator) -> bool:
    # receive_nothing, not a timed-out receive: that would cancel the consumer.
    return await communicator.receive_nothing(timeout=0.5)


def test_api_logout_revokes_the_token_and_closes_its_websockets(staff_of):
    staff = staff_of("dishub")
    token = Token.objects.create(user=staff)
    api = JsonClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/assignments/").status_code == 200

    async def scenario():
        socket = await connect(token_headers(token))
        await socket.receive_json_from()  # snapshot
        response = await sync_to_async(api.post)("/api/v1/auth/logout/")
        assert response.status_code == 204
        assert await closed_with(socket) == 4401

    run(scenario)
    assert not Token.objects.filter(user=staff).exists()
    assert api.get("/api/v1/assignments/").status_code == 401

    async def reconnect():
        socket = WebsocketCommunicator(application, "/ws/events/", headers=token_headers(token))
        await socket.connect()
        assert await closed_with(socket) == 4401

    run(reconnect)


def test_browser_logout_closes_that_sessions_websockets_and_revokes_tokens(staff_of):
    staff = staff_of("dishub")
    token = Token.objects.create(user=staff)
    desk, phone = signed_in(staff), signed_in(staff)  # the same person on two devices

    async def scenario():
        desk_socket = await connect(cookie_headers(desk))
        phone_socket = await connect(cookie_headers(phone))
        token_socket = await connect(token_headers(token))
        for socket in (desk_socket, phone_socket, token_socket):
            await socket.receive_json_from()
        response = await sync_to_async(desk.post)("/accounts/logout/")
        assert response.status_code == 302
        assert await closed_with(desk_socket) == 4401
        assert await closed_with(token_socket) == 4401
        assert await stays_open(phone_socket)  # still signed in on the phone
        await phone_socket.disconnect()

    run(scenario)
    assert not Token.objects.filter(user=staff).exists()
    assert desk.get("/agency/").status_code == 302  # to the login page
    assert phone.get("/agency/").status_code == 200


def test_deactivation_ends_every_way_in(staff_of, supervisor):
    staff = staff_of("dishub")
    token = Token.objects.create(user=staff)
    browser = signed_in(staff)
    bystander = signed_in(supervisor)

    async def scenario():
        sockets = [
            await connect(cookie_headers(browser)),
            await connect(token_headers(token)),
        ]
        other = await connect(cookie_headers(bystander))
        for socket in [*sockets, other]:
            await socket.receive_json_from()

        def deactivate():
            staff.is_active = False
            staff.save()

        await sync_to_async(deactivate)()
        for socket in sockets:
            assert await closed_with(socket) == 4401
        assert await stays_open(other)
        await other.disconnect()

    run(scenario)
    assert not Token.objects.filter(user=staff).exists()
    assert browser.get("/api/v1/assignments/").status_code in (401, 403)
    assert browser.get("/agency/").status_code == 302


def test_saving_an_active_user_revokes_nothing(staff_of):
    staff = staff_of("dishub")
    token = Token.objects.create(user=staff)
    staff.first_name = "Budi"
    staff.save()
    assert Token.objects.filter(pk=token.pk).exists()
