"""Every websocket frame a client can send is answered or ignored, never a crash (issue 33
deliver 5, SPEC §13): hypothesis generates frames — JSON objects of every known and unknown
type with fields of every kind (control characters, huge and negative numbers, impossible
dates, nesting), JSON that is not an object, text that is not JSON, binary — and sends them
to a field officer's socket (positions) and an operator's (resume). The socket must stay open
(an exception in the consumer would end it with 1011) and every reply must be a JSON object;
a last known-bad frame proves it still answers.

Bounded by the number of examples (derandomized: a run is repeatable), not by time."""

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_events_consumer import connect, run, session_headers

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(
        ["2026-02-30T10:00:00+07:00", "2026-12-06T10:00:00+23:00", "9999-12-31T23:59:59Z",
         "2026-12-06T10:00:00", "\x00", "1e999", "-6.98", "110.41"]
    ),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
FIELDS = st.sampled_from(
    ["unit", "latitude", "longitude", "accuracy", "recorded_at", "last_event_id", "event_id",
     "assignment", "speed", "heading"]
)  # fmt: skip
OBJECTS = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(["position", "resume", "ack", "seen", "ping", "", "x" * 300]) | TEXT,
    st.dictionaries(FIELDS | TEXT, VALUES, max_size=5),
)
FRAMES = st.one_of(
    OBJECTS.map(json.dumps),
    VALUES.map(json.dumps),  # JSON, but not an object
    TEXT.filter(bool),  # not JSON at all (a frame is never empty)
    st.binary(min_size=1, max_size=40),
)


async def replies_until_quiet(socket, quiet: float = 0.05, limit: float = 10.0) -> list:
    """Everything the socket sent until it is quiet: closes included (as {"closed": code})."""
    replies, deadline = [], time.monotonic() + limit
    while not await socket.receive_nothing(timeout=quiet):
        assert time.monotonic() < deadline, f"still replying after {limit} s: {replies[-3:]}"
        output = await socket.receive_output(timeout=1)
        if output["type"] == "websocket.close":
            replies.append({"closed": output.get("code")})
            break
        replies.append(json.loads(output["text"]) if output.get("text") else {"bytes": True})
    return replies


def send_frames(headers, frames: list) -> list:
    async def scenario():
        socket = await connect(headers)
        await socket.receive_json_from(timeout=5)  # the snapshot
        for frame in frames:
            if isinstance(frame, bytes):
                await socket.send_to(bytes_data=frame)
            else:
                await socket.send_to(text_data=frame)
        replies = await replies_until_quiet(socket)
        await socket.send_json_to({"type": "no such frame"})  # still there, still answering
        replies += await replies_until_quiet(socket, quiet=0.5)
        await socket.disconnect()
        return replies

    return run(scenario)


@pytest.fixture
def sockets(unit_of, field_officer_of, operator):
    unit = unit_of("ambulans", "AMB-01")
    return {
        "field": session_headers(field_officer_of("ambulans", unit=unit)),
        "operator": session_headers(operator),
    }


@pytest.mark.parametrize("role", ["field", "operator"])
@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frames=st.lists(FRAMES, min_size=5, max_size=25))
def test_no_frame_crashes_a_socket(sockets, role, frames):
    replies = send_frames(sockets[role], frames)
    closes = [r for r in replies if "closed" in r]
    assert not closes, f"the socket was closed: {closes}"
    assert all(isinstance(r, dict) for r in replies), replies
    assert replies[-1]["type"] == "error", replies[-3:]
