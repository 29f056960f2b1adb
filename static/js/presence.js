/* Who is there (SPEC §12): each agency's desk screens and field phones online, as the server
 * counts them (the command centre's snapshot carries `presence`, then `presence.updated`
 * frames follow). An assignment waiting on an agency with no desk screen says so, with the
 * agency's phone number: the operator calls them. Shared by the console and the board. */

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
    /** Marks a chip of an assignment still waiting on an agency nobody watches. */
    mark(chip, assignment) {
      if (assignment.status !== "notified" || !this.nobodyAtDesk(assignment.agency)) return;
      const note = document.createElement("span");
      note.className = "nobody-online";
      note.textContent = gettext("nobody online");
      const number = phoneOf[assignment.agency];
      if (number) {
        const phone = document.createElement("a");
        phone.href = `tel:${number.replace(/[^\d+]/g, "")}`;
        phone.textContent = `☎ ${number}`;
        note.append(" · ", phone);
      }
      chip.classList.add("unwatched");
      chip.append(" · ", note);
    },
  };
}
