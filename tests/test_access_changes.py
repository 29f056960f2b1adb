"""A change to who a user is takes effect at once (issue 33 findings 2 and 5, SPEC §13): their
API tokens stop working and their open websockets close — 4003 to reconnect with the new
scope after a change of role or agency, 4401 after a new password — whoever makes the change
(the admin, `manage.py changepassword`, the shell): they all save the models. Real websocket
clients against the ASGI application, as tests/test_revocation.py."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from agencies.models import Agency
from agencies.roles import SUPERVISOR_GROUP
from notifications.consumers import ACCESS_CHANGED, UNAUTHENTICATED
from tests.api.conftest import JsonClient

from .test_events_consumer import connect, run, session_headers, snapshot_of
from .test_revocation import closed_with, stays_open, token_headers

pytestmark = pytest.mark.django_db(transaction=True)


def token_client(token: Token) -> JsonClient:
    return JsonClient(HTTP_AUTHORIZATION=f"Token {token.key}")


def sockets_closed_by(change, user, bystander) -> list[int | None]:
    """Opens a token socket and a browser socket of `user` and one of `bystander`, makes
    the change, and returns the close codes of the user's sockets (the bystander's stays)."""
    token = Token.objects.get_or_create(user=user)[0]
    headers = [token_headers(token), session_headers(user)]
    other = session_headers(bystander)

    async def scenario():
        sockets = [await connect(h) for h in headers]
        watcher = await connect(other)
        for socket in [*sockets, watcher]:
            assert (await socket.receive_json_from(timeout=2))["type"] == "snapshot"
        await sync_to_async(change)()
        codes = [await closed_with(socket) for socket in sockets]
        assert await stays_open(watcher)
        await watcher.disconnect()
        return codes

    return run(scenario)


def test_a_supervisor_removed_from_its_group_loses_the_live_feed_and_its_token(
    supervisor, operator
):
    token = Token.objects.create(user=supervisor)
    api = token_client(token)
    assert api.get("/api/v1/reports/").status_code == 200

    def demote():
        supervisor.groups.remove(Group.objects.get(name=SUPERVISOR_GROUP))

    assert sockets_closed_by(demote, supervisor, operator) == [ACCESS_CHANGED] * 2
    assert not Token.objects.filter(user=supervisor).exists()
    assert api.get("/api/v1/reports/").status_code == 401

    headers = session_headers(supervisor)

    async def reconnect():  # now a user without a role: refused
        return await closed_with(await connect(headers))

    assert run(reconnect) == UNAUTHENTICATED


def test_a_group_emptied_from_its_side_closes_its_members_sockets(supervisor, operator):
    group = Group.objects.get(name=SUPERVISOR_GROUP)
    assert sockets_closed_by(group.user_set.clear, supervisor, operator) == [ACCESS_CHANGED] * 2


def test_staff_moved_to_another_agency_reconnect_into_the_new_one(make_report, staff_of, operator):
    bpbd = staff_of("bpbd")
    flood = make_report(category="banjir")  # BPBD is on it; Damkar is not
    assert flood.assignments.filter(agency__code="bpbd").exists()
    assert not flood.assignments.filter(agency__code="damkar").exists()
    token = Token.objects.create(user=bpbd)

    def move():
        member = bpbd.agency_membership
        member.agency = Agency.objects.get(code="damkar")
        member.save()

    assert sockets_closed_by(move, bpbd, operator) == [ACCESS_CHANGED] * 2
    assert token_client(token).get("/api/v1/assignments/").status_code == 401
    snapshot = snapshot_of(session_headers(bpbd))
    assert [a["report"]["number"] for a in snapshot["assignments"]] == []


def test_a_new_password_ends_every_way_in(staff_of, operator):
    staff = staff_of("dishub")
    token = Token.objects.create(user=staff)

    def change_password():  # what `manage.py changepassword` and the admin's form do
        staff.set_password("another-secret-112")
        staff.save()

    assert sockets_closed_by(change_password, staff, operator) == [UNAUTHENTICATED] * 2
    assert token_client(token).get("/api/v1/assignments/").status_code == 401
    fresh = JsonClient().post(
        "/api/v1/auth/token/", {"username": staff.username, "password": "another-secret-112"}
    )
    assert fresh.status_code == 200 and fresh.json()["token"] != token.key  # a new one


def admin_change_data(page) -> dict:
    """The POST data of an admin change page as it was rendered, as a browser submits it."""
    data = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        forms += inline.formset.forms
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled or (value := form[name].value()) is None:
                continue
            if hasattr(field, "fields"):  # split date and time
                parts = field.widget.decompress(value)
                data.update({f"{form.add_prefix(name)}_{i}": p for i, p in enumerate(parts)})
            else:
                data[form.add_prefix(name)] = value
    return data


def test_a_role_changed_in_the_admin_is_revoked_too(staff_of, admin_client):
    staff = staff_of("dishub")
    token = Token.objects.create(user=staff)
    url = f"/admin/auth/user/{staff.pk}/change/"
    data = admin_change_data(admin_client.get(url))
    data["groups"] = [Group.objects.get_or_create(name="operator")[0].pk]
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert staff.groups.filter(name="operator").exists()
    assert not Token.objects.filter(pk=token.pk).exists()


def test_saving_a_user_or_a_member_unchanged_revokes_nothing(staff_of):
    staff = staff_of("dishub")
    token = Token.objects.create(user=staff)
    staff.first_name = "Budi"
    staff.save()
    staff.agency_membership.save()
    staff.groups.add(*staff.groups.all())
    assert Token.objects.filter(pk=token.pk).exists()
