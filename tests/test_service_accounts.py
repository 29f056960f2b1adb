"""Each system that talks to us (an Open311 app, a peer 112 centre) reports under a user of
its own that cannot sign in (interop.accounts): made when the system is added — by code or
in the admin — never by a model's save()."""

import pytest
from django.contrib.auth import get_user_model

from interop.models import Open311Client, PeerCentre

pytestmark = pytest.mark.django_db


def test_a_system_added_by_code_gets_an_account_that_cannot_sign_in():
    app = Open311Client.objects.create(name="LAPOR! Semarang", code="lapor")
    account = app.account
    assert account.username == "open311.lapor" and account.first_name == "LAPOR! Semarang"
    assert not account.is_active and not account.has_usable_password()
    assert not account.groups.exists()


def test_saving_a_system_makes_no_user():
    before = get_user_model().objects.count()
    centre = PeerCentre(name="112 Kendal", code="kendal", url="http://kendal.test", token="t")
    centre.save()
    assert get_user_model().objects.count() == before and centre.account is None


def test_the_admin_opens_the_account_and_keeps_its_name(admin_client):
    added = admin_client.post(
        "/admin/interop/peercentre/add/",
        {"name": "112 Kendal", "code": "kendal", "url": "https://112.kendalkab.go.id",
         "token": "their-token", "active": "on"},
    )  # fmt: skip
    assert added.status_code == 302, added.content.decode()[:2000]
    centre = PeerCentre.objects.get(code="kendal")
    assert centre.account.username == "eido.kendal" and not centre.account.is_active
    changed = admin_client.post(
        f"/admin/interop/peercentre/{centre.pk}/change/",
        {"name": "112 Kabupaten Kendal", "url": centre.url, "token": "their-token",
         "active": "on"},
    )  # fmt: skip
    assert changed.status_code == 302
    centre.account.refresh_from_db()
    assert centre.account.first_name == "112 Kabupaten Kendal"
