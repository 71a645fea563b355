/**
 * Linphone (liblinphone 5, linphonec, the Android, iOS and desktop apps) reads a list NOTIFY only in the form its own
 * server, Flexisip, sends: the Event token spelled `Presence` (liblinphone compares it with strcmp) and each part's
 * `Content-Id` holding the bare id the RLMI `cid` names (RFC 2392 puts it in angle brackets, which liblinphone does not
 * strip). Any other list NOTIFY is dropped without a word and the friends stay grey, so Linphone's subscriptions get
 * that form, recognised by the User-Agent every Linphone build sends; every other watcher gets the standard one.
 */
const LINPHONE_USER_AGENT = /^Linphone/i;

export function isLinphone(userAgent: string): boolean {
  return LINPHONE_USER_AGENT.test(userAgent);
}

/** The Event token of a list NOTIFY to this watcher. */
export function listEventToken(event: string, userAgent: string): string {
  return isLinphone(userAgent) ? event.charAt(0).toUpperCase() + event.slice(1) : event;
}
