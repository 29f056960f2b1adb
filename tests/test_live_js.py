"""static/js/live.js on its own (Node, a fake WebSocket and timers; the ES module is imported from a
data: URL, which Node reads as a module whatever its version): the reconnect carries
`?last_event_id=`, no event at or below the mark is applied (a repeat, or older than a first
snapshot), and the back-off follows the server's hint, jittered, never above 2 s (SPEC §12a,
issue 35 §1 and §3). Skipped where Node is not installed; the browser tests cover the rest."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

LIVE_JS = Path(__file__).resolve().parent.parent / "static" / "js" / "live.js"

HARNESS = r"""
const fs = require("fs");
const sockets = [], timers = [], applied = [], snapshots = [];
global.window = { location: { protocol: "http:", host: "dispatch.test" } };
global.document = { addEventListener() {}, cookie: "" };
global.localStorage = { getItem() { return null; } };
global.gettext = (s) => s;
class FakeSocket {
  constructor(url) { this.url = url; this.listeners = {}; this.readyState = 1; sockets.push(this); }
  addEventListener(kind, fn) { (this.listeners[kind] = this.listeners[kind] || []).push(fn); }
  send() {}
  close() {}
  emit(kind, event) { (this.listeners[kind] || []).forEach((fn) => fn(event)); }
  frame(data) { this.emit("message", { data: JSON.stringify(data) }); }
}
FakeSocket.OPEN = 1;
global.WebSocket = FakeSocket;
global.setTimeout = (fn, ms) => { timers.push(ms); return timers.length; };
global.clearTimeout = () => {};
const source = Buffer.from(fs.readFileSync(process.argv[1], "utf8")).toString("base64");
import(`data:text/javascript;base64,${source}`).then(({ connectLive }) => {
connectLive({
  onSnapshot: (s) => snapshots.push(s.last_event_id),
  onEvent: (e) => applied.push(e.event_id),
  onStatus: () => {},
});
const first = sockets[0];
first.frame({ type: "snapshot", last_event_id: 10, assignments: [] });
for (const id of [9, 10, 11, 12, 11]) first.frame({ type: "report.updated", event_id: id });
first.frame({ type: "unavailable", retry_after_ms: 500 });
first.emit("close", { code: 4500 });
// The reconnect the timer would run: live.js schedules `connect` itself.
const delays = [];
delays.push(timers[timers.length - 1]);
// Five more refusals in a row: the waits double from the hint and stop at 2 s.
for (let n = 0; n < 5; n += 1) {
  const socket = sockets[sockets.length - 1];
  socket.emit("close", { code: 4500 });
  delays.push(timers[timers.length - 1]);
}
console.log(JSON.stringify({ applied, snapshots, delays, urls: sockets.map((s) => s.url) }));
});
"""

RECONNECT = r"""
const fs = require("fs");
const sockets = [], applied = [];
let pending = null;
global.window = { location: { protocol: "https:", host: "dispatch.test" } };
global.document = { addEventListener() {}, cookie: "" };
global.localStorage = { getItem() { return null; } };
global.gettext = (s) => s;
class FakeSocket {
  constructor(url) { this.url = url; this.listeners = {}; sockets.push(this); }
  addEventListener(kind, fn) { (this.listeners[kind] = this.listeners[kind] || []).push(fn); }
  send() {}
  close() {}
  emit(kind, event) { (this.listeners[kind] || []).forEach((fn) => fn(event)); }
  frame(data) { this.emit("message", { data: JSON.stringify(data) }); }
}
global.WebSocket = FakeSocket;
global.setTimeout = (fn) => { pending = fn; return 1; };
global.clearTimeout = () => {};
const source = Buffer.from(fs.readFileSync(process.argv[1], "utf8")).toString("base64");
import(`data:text/javascript;base64,${source}`).then(({ connectLive }) => {
connectLive({ onEvent: (e) => applied.push(e.event_id) });
sockets[0].frame({ type: "snapshot", last_event_id: 10, assignments: [] });
sockets[0].frame({ type: "report.updated", event_id: 12 });
sockets[0].emit("close", { code: 1006 });
pending();  // the reconnect
// The server: the snapshot (mark 15), then the events after 12, then live ones.
sockets[1].frame({ type: "snapshot", last_event_id: 15, assignments: [] });
for (const id of [13, 14, 15, 16, 14]) sockets[1].frame({ type: "report.updated", event_id: id });
console.log(JSON.stringify({ applied, urls: sockets.map((s) => s.url) }));
});
"""


def run_node(script: str) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "-e", script, "--", str(LIVE_JS)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_events_at_or_below_the_mark_are_never_applied_and_backoff_is_capped():
    result = run_node(HARNESS)
    assert result["urls"][0] == "ws://dispatch.test/ws/events/"
    assert result["snapshots"] == [10]
    assert result["applied"] == [11, 12]  # 9 and 10 are in the snapshot; 11 again a repeat
    first, *rest = result["delays"]
    assert 250 <= first <= 500  # the server's hint (500 ms), jittered down to half
    assert all(delay <= 2000 for delay in result["delays"])
    assert max(rest) >= 1000  # doubling from the hint


def test_a_reconnect_passes_the_last_applied_id_and_applies_the_missed_events_in_order():
    result = run_node(RECONNECT)
    assert result["urls"] == [
        "wss://dispatch.test/ws/events/",
        "wss://dispatch.test/ws/events/?last_event_id=12",
    ]
    assert result["applied"] == [12, 13, 14, 15, 16]
