"""The demo's partners (SPEC §10): one city app and one neighbouring 112 centre. Their keys
are public, like the demo users' password: demo data only (manage.py seed_demo)."""

from django.conf import settings

from .models import Open311Client, PeerCentre

DEMO_OPEN311_KEY = "demo-lapor-semarang-key"
_SEMARANG_TO_KENDAL = "demo-token-kendal-gives-semarang"
_KENDAL_TO_SEMARANG = "demo-token-semarang-gives-kendal"
# `make run` is Semarang on :8000; `make run-kendal` is a second instance on :8001 with its own
# database, the demo's Kendal (other ports: PORT / KENDAL_PORT, which the Makefile passes on
# as DISPATCH_DEMO_PEER_URL). Each is set up with the other as its peer, tokens swapped.
DEMO_PEERS = {
    "urn:dispatch112:semarang": {
        "name": "112 Kabupaten Kendal",
        "code": "kendal",
        "url": "http://127.0.0.1:8001",
        "token": _SEMARANG_TO_KENDAL,
        "inbound_token": _KENDAL_TO_SEMARANG,
    },
    "urn:dispatch112:kendal": {
        "name": "112 Kota Semarang",
        "code": "semarang",
        "url": "http://127.0.0.1:8000",
        "token": _KENDAL_TO_SEMARANG,
        "inbound_token": _SEMARANG_TO_KENDAL,
    },
}


def seed_demo_partners() -> tuple[int, int]:
    apps = peers = 0
    if not Open311Client.objects.filter(code="lapor").exists():
        Open311Client.objects.create(
            name="LAPOR! Semarang", code="lapor", api_key=DEMO_OPEN311_KEY,
            contact="lapor@semarangkota.go.id",
        )  # fmt: skip
        apps = 1
    peer = DEMO_PEERS.get(settings.DISPATCH_CENTRE_ID)
    if peer and not PeerCentre.objects.filter(code=peer["code"]).exists():
        PeerCentre.objects.create(**{**peer, "url": settings.DISPATCH_DEMO_PEER_URL or peer["url"]})
        peers = 1
    return apps, peers
