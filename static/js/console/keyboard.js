/* The console's keys, wherever the focus is: F2 a new call, Ctrl+Enter sends, Alt+I/P/G/L
 * logs a call that needs no dispatch, Alt+A takes the handset's position, Alt+1…9 attaches
 * the call to a possible duplicate. (The type-ahead and the chips have their own keys.) */
import { state } from "./context.js";
import { newCall } from "./call.js";
import { logCall, submitReport } from "./sending.js";
import { useAml } from "./telephony.js";

const OUTCOME_KEYS = { KeyI: "information", KeyP: "prank", KeyG: "ghost", KeyL: "other" };

function onKey(event) {
  if (event.key === "F2") {
    event.preventDefault();
    newCall();
  } else if (event.altKey && !event.ctrlKey && OUTCOME_KEYS[event.code]) {
    event.preventDefault();
    logCall(OUTCOME_KEYS[event.code]);
  } else if (event.altKey && !event.ctrlKey && event.code === "KeyA") {
    event.preventDefault();
    useAml();
  } else if (event.altKey && !event.ctrlKey && /^Digit[1-9]$/.test(event.code)) {
    const report = state.duplicates[Number(event.code.slice(5)) - 1];
    if (report) { event.preventDefault(); logCall("attached", report.id); }
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    submitReport();
  }
}

export function init() {
  document.addEventListener("keydown", onKey);
}
