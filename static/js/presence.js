/* Who is there (SPEC §12): each agency's desk screens and field phones online, as the server
 * counts them (the command centre's snapshot carries `presence`, then `presence.updated`
 * frames follow). An assignment waiting on an agency with no desk screen says so, with the
 * agency's phone number: the operator calls them. Shared by the console and the board. */

import { clockTime } from "./live.js";

/** Whether no screen of the agency showed the assignment in time and it still waits: the
 *  server said so (`unheard_at`), and nothing has reached the agency since. */
export function unheard(assignment) {
  return Boolean(assignment.unheard_at) && !assignment.delivered_at && assignment.status === "notified";
}

/** What reached the agency, in words (SPEC §12): "sent 14.02.03 · seen 14.02.10 by dishub";
 *  "" when its screens have not shown it yet. */
export function receiptWords(assignment) {
  const parts = [];
  if (assignment.delivered_at) {
    parts.push(interpolate(gettext("delivered %(time)s"), { time: clockTime(assignment.delivered_at) }, true));
  }
  if (assignment.seen_at) {
    parts.push(assignment.seen_by
      ? interpolate(gettext("seen %(time)s by %(user)s"), { time: clockTime(assignment.seen_at), user: assignment.seen_by }, true)
      : interpolate(gettext("seen %(time)s"), { time: clockTime(assignment.seen_at) }, true));
  }
  return parts.join(" · ");
}

function phoneLink(number) {
  const phone = document.createElement("a");
  phone.href = `tel:${number.replace(/[^\d+]/g, "")}`;
  phone.textContent = `☎ ${number}`;
  return phone;
}

/** What one screen knows of presence; `agencies` are the page's (code, phone). */
export function createPresence(agencies) {
  const phoneOf = Object.fromEntries(agencies.map((a) => [a.code, a.phone || ""]));
  let presence = null; // null until the first snapshot: nothing is claimed before it is known
  let version = 0;
  return {
    /** The presence the server last sent (snapshot or frame). */
    update(next) {
      presence = next || {};
      version += 1;
    },
    /** Changes whenever presence does. */
    version: () => version,
    /** Whether the agency has no desk screen online (false while unknown). */
    nobodyAtDesk(code) {
      return presence !== null && !((presence[code] || {}).desk > 0);
    },
    /** Draws who is online per agency into `element` (the live map's strip): desk screens
     *  and field phones, and for an agency with no desk screen, that nobody is there and the
     *  number to call. Hidden until the server has said (the command centre's screens). */
    summary(element) {
      element.hidden = presence === null;
      if (presence === null) return;
      element.replaceChildren();
      for (const agency of agencies) {
        const counts = presence[agency.code] || {};
        const item = document.createElement("span");
        item.className = "presence-agency";
        item.dataset.agency = agency.code;
        const name = document.createElement("b");
        name.textContent = agency.short_name || agency.code;
        item.append(name, " ");
        if (!(counts.desk > 0)) {
          item.classList.add("unwatched");
          const note = document.createElement("span");
          note.className = "nobody-online";
          note.textContent = gettext("nobody online");
          if (phoneOf[agency.code]) note.append(" · ", phoneLink(phoneOf[agency.code]));
          item.append(note);
          if (counts.field > 0) item.append(" · ", interpolate(gettext("%(field)s field"), { field: counts.field }, true));
        } else {
          item.append(interpolate(gettext("%(desk)s desk · %(field)s field"), { desk: counts.desk, field: counts.field || 0 }, true));
        }
        element.append(item);
      }
    },
    /** The agency's phone number ("" when none is known). */
    phoneOf: (code) => phoneOf[code] || "",
    /** Marks a chip of an assignment still waiting for its agency: unheard (nobody's screen
     *  showed it in time), or nobody online at its desk — both with the number to call —
     *  and what has reached the agency so far (delivered, seen). */
    mark(chip, assignment) {
      if (assignment.status !== "notified") return;
      const number = phoneOf[assignment.agency];
      let note = null;
      if (unheard(assignment)) {
        note = document.createElement("span");
        note.className = "unheard-word";
        note.textContent = gettext("not heard");
        chip.classList.add("unheard");
      } else if (this.nobodyAtDesk(assignment.agency)) {
        note = document.createElement("span");
        note.className = "nobody-online";
        note.textContent = gettext("nobody online");
        chip.classList.add("unwatched");
      }
      if (note) {
        if (number) note.append(" · ", phoneLink(number));
        chip.append(" · ", note);
      }
      // On a chip, only the furthest step (the report's view has both, and who saw it).
      const words = assignment.seen_at
        ? interpolate(gettext("seen %(time)s"), { time: clockTime(assignment.seen_at) }, true)
        : assignment.delivered_at
          ? interpolate(gettext("delivered %(time)s"), { time: clockTime(assignment.delivered_at) }, true) : "";
      if (words) {
        const receipt = document.createElement("span");
        receipt.className = "receipt";
        receipt.textContent = words;
        chip.append(" · ", receipt);
      }
    },
  };
}
