/* The console's presence (SPEC §12, ../presence.js): one for the page, read by the chips. */
import { createPresence } from "../presence.js";
import { config } from "./context.js";

export const presence = createPresence(config.agencies);
