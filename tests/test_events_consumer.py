"""/ws/events/ with real websocket clients (Channels' WebsocketCommunicator) on the
configured channel layer: in-memory by default, Redis in CI's second pass."""

import asyncio
import contextlib

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from rest_framework.authtoken.models import Token

from dispatch112.asgi import application
from notifications import fanout
from notifications.layer import stop_other_tasks
from reports import services
from reports.models import Event

from .factories import UserFactory
from .waiting import received_until_quiet

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://testserver")


def session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), ORIGIN]


def run(scenario):
    """Runs an async scenario; whatever it leaves running (consumers it did not disconnect)
    is stopped before its event loop closes, so a cancellation lost in the Redis client
    cannot hang the loop's shutdown (notifications.layer)."""

    async def bounded():
        try:
            return await scenario()
        finally:
            await stop_other_tasks()

    return async_to_sync(bounded)()


async def connect(headers):
    communicator = WebsocketCommunicator(application, "/ws/events/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def snapshot_of(headers) -> dict:
    """The snapshot a screen that connects now gets, its socket closed after."""

    async def scenario():
        socket = await connect(headers)
        snapshot = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return snapshot

    return run(scenario)


async def traffic_jam_reported_by(operator):
    """A kemacetan report (Dishub + Polrestabes) through the service, from async code."""
    return await database_sync_to_async(services.report_create)(
        operator=operator,
        caller_phone="081234567890",
        category="kemacetan",
        description="Macet",
        address="Jl. Pemuda",
    )


async def received_events(communicator, quiet=0.3) -> list[dict]:
    """Everything received until the socket is quiet for `quiet` s (bounded: waiting.py)."""
    return await received_until_quiet(communicator, quiet)


def test_an_unauthenticated_client_is_closed_with_4401(db):
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/events/", headers=[ORIGIN])
        connected, _ = await communicator.connect()
        assert connected
        assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_a_user_without_a_role_is_closed_with_4401(db):
    headers = session_headers(UserFactory())

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/events/", headers=headers)
        await communicator.connect()
        assert (await communicator.receive_output())["code"] == 4401

    run(scenario)


def test_a_page_from_another_site_is_refused(staff_of):
    headers = [session_headers(staff_of("dishub"))[0], (b"origin", b"https://evil.example")]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/events/", headers=headers)
        connected, _ = await communicator.connect()
        assert not connected

    run(scenario)


def test_a_token_client_gets_its_agency_snapshot(make_report, staff_of):
    jam = make_report(category="kemacetan")  # dishub + polrestabes
    make_report(category="kebakaran")  # damkar only
    staff = staff_of("dishub")
    token = Token.objects.create(user=staff)
    headers = [(b"authorization", f"Token {token.key}".encode())]

    async def scenario():
        communicator = await connect(headers)
        snapshot = await communicator.receive_json_from()
        assert snapshot["type"] == "snapshot"
        assert snapshot["last_event_id"] == await database_sync_to_async(_last_event_id)()
        assert snapshot["server_time"]
        # Every open assignment on the reports Dishub may see: its own and its partners'.
        assert {(a["report"]["number"], a["agency"]) for a in snapshot["assignments"]} == {
            (jam.number, "dishub"),
            (jam.number, "polrestabes"),
        }
        assert {a["report"]["caller_phone"] for a in snapshot["assignments"]} == {"+62812*****890"}
        await communicator.disconnect()

    run(scenario)


def _last_event_id():
    return Event.objects.order_by("-id").values_list("id", flat=True).first()


def test_live_events_reach_only_those_who_may_see_them(city, operator, staff_of):
    dishub, dpu = session_headers(staff_of("dishub")), session_headers(staff_of("dpu"))
    centre = session_headers(operator)

    async def scenario():
        clients = {
            name: await connect(h)
            for name, h in [("dishub", dishub), ("dpu", dpu), ("centre", centre)]
        }
        for communicator in clients.values():
            assert (await communicator.receive_json_from())["type"] == "snapshot"
        report = await traffic_jam_reported_by(operator)
        for name in ("dishub", "centre"):
            events = await received_events(clients[name])
            assert [e["type"] for e in events] == [
                "report.updated",
                "assignment.created",
                "assignment.created",
            ]
            assert {e["assignment"]["agency"] for e in events[1:]} == {"dishub", "polrestabes"}
            assert all(e["report"]["number"] == report.number for e in events)
            # The command centre gets the caller's number; agency staff get it masked.
            phone = "+6281234567890" if name == "centre" else "+62812*****890"
            assert {(e["report"]["caller_phone"], e["report"]["caller_phone_masked"])
                    for e in events} == {(phone, name != "centre")}  # fmt: skip
        assert await received_events(clients["dpu"]) == []
        for communicator in clients.values():
            await communicator.disconnect()

    run(scenario)


def test_resume_replays_every_missed_event_in_order(city, operator, staff_of):
    headers = session_headers(staff_of("dishub"))
    create = database_sync_to_async(services.report_create)

    async def scenario():
        first = await connect(headers)
        last_seen = (await first.receive_json_from())["last_event_id"] or 0
        await first.disconnect()
        # While the dashboard is away: two reports for Dishub, one that is not.
        missed = []
        for category in ("kemacetan", "kebakaran", "kecelakaan"):
            missed.append(
                await create(
                    operator=operator,
                    caller_phone="081234567890",
                    category=category,
                    description="-",
                    address="-",
                )
            )
        again = await connect(headers)
        await again.receive_json_from()  # the fresh snapshot
        await again.send_json_to({"type": "resume", "last_event_id": last_seen})
        replayed = [e for e in await received_events(again) if e["event_id"] > last_seen]
        ids = [e["event_id"] for e in replayed]
        assert ids == sorted(ids)
        expected = await database_sync_to_async(_event_ids_for)([missed[0], missed[2]])
        assert ids == expected
        assert {e["report"]["caller_phone"] for e in replayed} == {"+62812*****890"}
        await again.disconnect()

    run(scenario)


def _event_ids_for(reports):
    return list(
        Event.objects.filter(report__in=reports).order_by("id").values_list("id", flat=True)
    )


def test_a_bad_resume_is_answered_not_crashed(city, operator):
    headers = session_headers(operator)

    async def scenario():
        communicator = await connect(headers)
        await communicator.receive_json_from()
        for message in ({"type": "resume", "last_event_id": "x"}, {"type": "nope"}, [1]):
            await communicator.send_json_to(message)
            assert (await communicator.receive_json_from())["type"] == "error"
        await communicator.disconnect()

    run(scenario)


def test_nothing_is_sent_for_a_rolled_back_transaction(city, operator, staff_of):
    headers = session_headers(staff_of("damkar"))

    def create_then_fail():
        with transaction.atomic():
            services.report_create(
                operator=operator,
                caller_phone="081234567890",
                category="kebakaran",
                description="Api",
                address="Jl. A",
            )
            raise RuntimeError("the request failed after the report was written")

    async def scenario():
        communicator = await connect(headers)
        await communicator.receive_json_from()
        with pytest.raises(RuntimeError):
            await database_sync_to_async(create_then_fail)()
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()

    run(scenario)


def test_resume_also_resends_a_window_below_the_clients_mark(make_report, staff_of):
    """Ids are allocated when an event is written and become visible when its transaction
    commits: a client may have seen event N before N-1 committed. Resume covers that."""
    from reports.live_state import RESUME_WINDOW, replay

    reports = [make_report(category="kebakaran") for _ in range(3)]
    ids = list(Event.objects.filter(report__in=reports).order_by("id").values_list("id", flat=True))
    seen_last = ids[-1]
    replayed = [p["event_id"] for p in replay(staff_of("damkar"), seen_last)]
    assert replayed == [i for i in ids if i > seen_last - RESUME_WINDOW]
    assert ids[0] in replayed  # below the mark, sent again; the client drops what it has
    assert replay(staff_of("dpu"), 0) == []  # and still only what the user may see


@pytest.mark.parametrize("renewed", [True, False])
def test_a_dashboard_connected_past_the_group_expiry_still_gets_events(
    city, operator, staff_of, settings, monkeypatch, renewed
):
    # The channel layer drops a group member `group_expiry` seconds after it joined, however
    # long its socket stays open: a wall screen left on for a day used to go silent. Live
    # consumers re-join every quarter of the expiry; without that (renewed=False) the same
    # dashboard hears nothing, which is what shows this test can fail.
    expiry = 2
    settings.CHANNEL_GROUP_EXPIRY = expiry
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {**layer, "CONFIG": {**layer.get("CONFIG", {}), "group_expiry": expiry}}
    }
    if not renewed:
        monkeypatch.setattr(fanout, "membership_refresh_seconds", lambda: 3600)
    headers = session_headers(staff_of("dishub"))

    async def scenario():
        communicator = await connect(headers)
        assert (await communicator.receive_json_from())["type"] == "snapshot"
        await asyncio.sleep(expiry + 2.5)  # past the expiry, whole seconds rounded
        await traffic_jam_reported_by(operator)
        events = await received_events(communicator, quiet=1.0)
        await communicator.disconnect()
        return events

    events = run(scenario)
    expected = ["report.updated", "assignment.created", "assignment.created"] if renewed else []
    assert [e["type"] for e in events] == expected


def test_a_process_joins_each_group_once_for_all_its_dashboards(city, operator, staff_of):
    """Live events reach a process once per group (notifications.fanout) and are written
    from there to each of its dashboards: three Dishub screens, one group member."""
    from channels.layers import get_channel_layer

    headers = [session_headers(staff_of("dishub")) for _ in range(3)]

    async def members(group):
        layer = get_channel_layer()
        if hasattr(layer, "groups"):  # in-memory layer
            return set(layer.groups.get(group, {}))
        async with layer.connection(layer.consistent_hash(group)) as connection:
            return {m.decode() for m in await connection.zrange(layer._group_key(group), 0, -1)}

    async def scenario():
        screens = [await connect(h) for h in headers]
        for screen in screens:
            assert (await screen.receive_json_from())["type"] == "snapshot"
        joined = await members("agency.dishub")
        await traffic_jam_reported_by(operator)
        received = [[e["type"] for e in await received_events(s)] for s in screens]
        for screen in screens:
            await screen.disconnect()
        return joined, received

    joined, received = run(scenario)
    assert len(joined) == 1  # the process's channel, not one per dashboard
    assert received == [["report.updated", "assignment.created", "assignment.created"]] * 3


def test_live_events_wait_until_a_resume_has_been_replayed(city, operator, staff_of):
    """An event published while a resume is being read from the database comes after the
    replay, never in the middle of it: the client sees ids in order."""
    from reports import live_state

    headers = session_headers(staff_of("damkar"))
    report = {"operator": operator, "caller_phone": "081234567890", "category": "kebakaran",
              "description": "Api", "address": "Jl. Pemuda"}  # fmt: skip
    for _ in range(3):
        services.report_create(**report)
    original_replay = live_state.replay

    def replay_while_a_report_comes_in(user, after):
        replayed = original_replay(user, after)
        services.report_create(**report)  # committed, published during the replay
        return replayed

    async def scenario():
        screen = await connect(headers)
        assert (await screen.receive_json_from())["type"] == "snapshot"
        live_state.replay = replay_while_a_report_comes_in
        try:
            await screen.send_json_to({"type": "resume", "last_event_id": 0})
            events = await received_events(screen, quiet=0.5)
        finally:
            live_state.replay = original_replay
        await screen.disconnect()
        return events

    ids = [e["event_id"] for e in run(scenario)]
    assert len(ids) == 4 * 2  # 3 replayed reports and the live one, 2 events each
    assert ids == sorted(ids)


def _process_fanout():
    from channels.layers import get_channel_layer

    return fanout.fanout_for(get_channel_layer())


def test_a_group_that_empties_and_fills_again_is_joined_again(city, operator, staff_of):
    """The process stops renewing a group with no dashboards; when one comes back after the
    membership expired, it must be added again, not trusted to still be there."""
    dpu, dishub = session_headers(staff_of("dpu")), session_headers(staff_of("dishub"))

    async def scenario():
        keeper = await connect(dpu)  # keeps the process's fan-out running throughout
        assert (await keeper.receive_json_from())["type"] == "snapshot"
        first = await connect(dishub)
        assert (await first.receive_json_from())["type"] == "snapshot"
        await first.disconnect()
        # The unrenewed membership expires (the layer drops it), as it would after 2 h.
        process = _process_fanout()
        await process.layer.group_discard("agency.dishub", process.channel)
        again = await connect(dishub)
        assert (await again.receive_json_from())["type"] == "snapshot"
        await traffic_jam_reported_by(operator)
        events = await received_events(again)
        for communicator in (keeper, again):
            await communicator.disconnect()
        return events

    events = run(scenario)
    assert [e["type"] for e in events] == [
        "report.updated",
        "assignment.created",
        "assignment.created",
    ]


def test_a_dashboard_whose_snapshot_fails_leaves_the_fanout(city, staff_of, monkeypatch):
    """A consumer that ends without a disconnect (here its snapshot query fails) must not
    stay among the process's dashboards, holding every frame of its group for ever."""
    from reports import live_state

    dpu, dishub = session_headers(staff_of("dpu")), session_headers(staff_of("dishub"))
    original = live_state.snapshot

    def failing_for_dishub(user):
        if user.agency_membership.agency.code == "dishub":
            raise RuntimeError("statement timeout")
        return original(user)

    async def scenario():
        keeper = await connect(dpu)
        assert (await keeper.receive_json_from())["type"] == "snapshot"
        monkeypatch.setattr(live_state, "snapshot", failing_for_dishub)
        broken = WebsocketCommunicator(application, "/ws/events/", headers=dishub)
        await broken.connect()
        with contextlib.suppress(RuntimeError):
            await broken.wait(timeout=2)
        groups = set(_process_fanout().members)
        await keeper.disconnect()
        return groups

    assert run(scenario) == {"agency.dpu"}
