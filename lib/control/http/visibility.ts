/**
 * What a caller may see: a user the hints their endpoint's context reaches (as a SUBSCRIBE from that endpoint
 * would resolve them, includes followed), an administrator every hint, an anonymous reader those of --context.
 */
import type { Dialplan, Hint } from '../../presence/hints.js';
import { CUSTOM_PRESENCE } from '../../presence/presence-service.js';
import type { Caller } from './accounts.js';

export function visibleHints(dialplan: Dialplan, caller: Caller, defaultContext: string): Hint[] {
  // Pattern hints (`_6XXX`) name no extension one could list.
  const concrete = dialplan.hints.filter((hint) => !hint.exten.startsWith('_'));
  if (caller.role === 'admin') return concrete;
  const context = caller.role === 'user' ? caller.context : defaultContext;
  return concrete.filter((hint) => dialplan.resolve(hint.exten, context) === hint);
}

/** The CustomPresence names behind those hints (a user's own name always among them). */
export function visiblePresenceNames(dialplan: Dialplan, caller: Caller, defaultContext: string): Set<string> {
  const names = new Set<string>();
  for (const hint of visibleHints(dialplan, caller, defaultContext)) {
    if (hint.presence?.startsWith(CUSTOM_PRESENCE)) names.add(hint.presence.slice(CUSTOM_PRESENCE.length));
  }
  if (caller.role === 'user') names.add(caller.name);
  return names;
}
