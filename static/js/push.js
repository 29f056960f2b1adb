/* Dispatch 112 — phones in a pocket (SPEC §12, issue 40 §4): the agency desk and the field app
 * offer to notify this device of new work even with the tab closed (Web Push). The button is
 * shown only where the browser can (PushManager) and the user has not blocked notifications;
 * the browser's subscription goes to the server, which sends through its push service. Also
 * opens the card a notification is about: /agency/#assignment-12 or /field/#assignment-12,
 * or the service worker's word to a tab already open (push_sw.js).
 * Its own module, loaded beside the page's: the field app's offline shell does not need it. */
import { api } from "./live.js";

const box = document.getElementById("push");
const button = document.getElementById("push-toggle");
const status = document.getElementById("push-status");
const READY_TIMEOUT_MS = 15000;

function supported() {
  return window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window
    && "Notification" in window;
}

// --- The button: off, turning on, on, blocked, failed ---------------------------------------
function show(state, message) {
  box.hidden = false;
  box.dataset.state = state;
  button.hidden = state === "blocked";
  button.disabled = state === "busy";
  button.setAttribute("aria-pressed", String(state === "on"));
  button.textContent = {
    on: gettext("Turn off notifications"),
    busy: gettext("Turning on…"),
  }[state] || gettext("Turn on notifications on this device");
  button.title = button.textContent;  // where a phone's desk shows only the bell
  status.textContent = message || {
    on: gettext("Notifications on"),
    blocked: gettext("Notifications are blocked in this browser's settings."),
  }[state] || "";
}

/** The service worker of this page's scope, once active: push needs an active one. */
async function activeRegistration() {
  const registration = await navigator.serviceWorker.register(box.dataset.worker, { scope: box.dataset.scope });
  if (registration.active) return registration;
  const worker = registration.installing || registration.waiting;
  if (!worker) throw new Error("no service worker");
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the service worker did not start")), READY_TIMEOUT_MS);
    worker.addEventListener("statechange", () => {
      if (worker.state === "activated") { clearTimeout(timer); resolve(); }
      if (worker.state === "redundant") { clearTimeout(timer); reject(new Error("the service worker failed")); }
    });
  });
  return registration;
}

async function serverKey() {
  const result = await api("GET", box.dataset.key);
  if (!result.ok) throw refused(result);
  return result.data.public_key;
}

function bytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const binary = window.atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

/** Whether the browser's subscription was made with the server's current key. */
function sameKey(subscription, key) {
  const held = subscription.options && subscription.options.applicationServerKey;
  if (!held) return false;
  const mine = new Uint8Array(held);
  const theirs = bytes(key);
  return mine.length === theirs.length && mine.every((value, index) => value === theirs[index]);
}

async function subscribed(registration, key) {
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription, key)) {  // the server has a new key
    await subscription.unsubscribe();
    subscription = null;
  }
  return subscription
    || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) });
}

async function save(subscription) {
  const result = await api("POST", box.dataset.subscriptions, subscription.toJSON());
  if (!result.ok) throw refused(result);
}

function refused(result) {
  const data = result.data || {};
  const error = new Error(`HTTP ${result.status}`);
  error.refusal = data.detail || Object.values(data).flat(2).filter((m) => typeof m === "string").join(" ")
    || gettext("The server did not take this device's subscription.");
  return error;
}

async function turnOn() {
  show("busy");
  const permission = await Notification.requestPermission();
  if (permission === "denied") { show("blocked"); return; }
  if (permission !== "granted") { show("off"); return; }
  try {
    const registration = await activeRegistration();
    await save(await subscribed(registration, await serverKey()));
    show("on");
  } catch (error) {
    console.warn("Web Push could not be turned on:", error);
    show("failed", error.refusal || gettext(
      "Notifications could not be turned on in this browser. New work still shows while this page is open."));
  }
}

async function turnOff() {
  show("busy");
  try {
    const registration = await navigator.serviceWorker.getRegistration(box.dataset.scope);
    const subscription = registration && await registration.pushManager.getSubscription();
    if (subscription) {
      await api("DELETE", box.dataset.subscriptions, { endpoint: subscription.endpoint }).catch(() => null);
      await subscription.unsubscribe();
    }
  } catch (error) {
    console.warn("Web Push could not be turned off:", error);
  }
  show("off");
}

/** On load: a subscription this browser already holds is handed in again, so it follows
 * whoever signed in here last and the server's key. */
async function resume() {
  show("off");
  if (Notification.permission !== "granted") return;
  try {
    const registration = await navigator.serviceWorker.getRegistration(box.dataset.scope);
    if (!registration || !(await registration.pushManager.getSubscription())) return;
    await save(await subscribed(registration, await serverKey()));
    show("on");
  } catch (error) {
    console.warn("Web Push subscription not renewed:", error);
  }
}

// --- Opening the card a notification is about ------------------------------------------------
let opening = null;
function openCard(url) {
  const match = /#assignment-(\d+)$/.exec(url || "");
  if (!match) return;
  clearTimeout(opening);
  const deadline = Date.now() + READY_TIMEOUT_MS;  // the card comes with the live snapshot
  const find = () => {
    const card = document.querySelector(`[data-assignment="${match[1]}"]`);
    if (card && card.offsetParent !== null) {
      if (!card.hasAttribute("tabindex")) card.setAttribute("tabindex", "-1");
      card.scrollIntoView({ block: "center" });
      card.focus({ preventScroll: true });
      card.classList.add("pushed");
      opening = setTimeout(() => card.classList.remove("pushed"), 4000);
    } else if (Date.now() < deadline) {
      opening = setTimeout(find, 200);
    }
  };
  find();
}

if (box && supported()) {
  if (Notification.permission !== "denied") {
    // This switch asks for the permission too: the desk's own request (agency/alerting.js,
    // notifications while the tab is open, loaded before this module) would be a second one.
    const other = document.getElementById("notify-permission");
    if (other) other.hidden = true;
    button.addEventListener("click", () => (box.dataset.state === "on" ? turnOff() : turnOn()));
    resume();
  }
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (!event.data || event.data.type !== "push.open") return;
    window.history.replaceState(null, "", `#${event.data.url.split("#")[1] || ""}`);
    openCard(event.data.url);
  });
  navigator.serviceWorker.startMessages();
}
openCard(location.hash);
window.addEventListener("hashchange", () => openCard(location.hash));
