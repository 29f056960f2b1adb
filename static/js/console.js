/* Dispatch 112 — operator console (the page's entry module). Keyboard first; every write goes
 * through /api/v1/. Nothing is lost: the call in progress lives in localStorage until the
 * server confirms it. The work is done by the modules in console/, one job each, whose imports
 * only point down (no cycle: the static files' hashes can name each other); this module wires
 * the few calls that go up, starts them in order and passes the live connection's news on. */
import "./alerts.js";
import { banner, beep, connectLive } from "./live.js";
import { config, fields } from "./console/context.js";
import * as call from "./console/call.js";
import * as categoryPicker from "./console/category_picker.js";
import * as closing from "./console/closing.js";
import * as duplicates from "./console/duplicates.js";
import * as keyboard from "./console/keyboard.js";
import * as openReports from "./console/open_reports.js";
import * as pinMap from "./console/pin_map.js";
import { presence } from "./console/presence.js";
import * as reportView from "./console/report_view.js";
import * as sending from "./console/sending.js";
import * as telephony from "./console/telephony.js";
import * as unheard from "./console/unheard.js";

for (const kecamatan of config.kecamatan) {
  const option = document.createElement("option");
  option.value = kecamatan.code;
  option.textContent = kecamatan.name;
  fields.kecamatan.append(option);
}

sending.init();
telephony.init();
categoryPicker.init();
duplicates.init({ onAttach: (report) => sending.logCall("attached", report.id) });
pinMap.init();
closing.init();
keyboard.init();
call.init();  // puts back a kept draft: the form's parts above are ready for it
reportView.init();
openReports.init({
  open: reportView.open, current: reportView.current,
  close: closing.closeReport, handOver: closing.handOver,
});

// Live: a report's event goes to the report's view and reloads the open list; the phone
// system's frames go to the incoming calls.
connectLive({
  onSnapshot(snapshot) {
    presence.update(snapshot.presence);
    unheard.onSnapshot(snapshot);
    telephony.onSnapshot(snapshot);
    openReports.reloadSoon();
    document.dispatchEvent(new CustomEvent("dispatch:snapshot"));
  },
  onEvent(event) {
    if (!event.report) return; // a unit's own event: the open reports did not change
    document.dispatchEvent(new CustomEvent("dispatch:event", { detail: event }));
    unheard.onEvent(event);
    if (event.kind === "assignment.escalated" || event.kind === "assignment.overdue") beep(true);
    openReports.reloadSoon();
  },
  onLive(frame) {
    if (frame.type === "presence.updated") {
      presence.update(frame.presence);
      openReports.reloadSoon();
      return;
    }
    telephony.onLive(frame);
  },
  onStatus: banner,
});
