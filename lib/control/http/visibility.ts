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

/** Everything one caller may see of one dialplan: 'all' for administrators. */
export interface Visible {
  presenceNames: ReadonlySet<string> | 'all';
  hints: ReadonlySet<Hint> | 'all';
  /** Devices of those hints (`Custom:2000`, `PJSIP/6001`), and a user's own mode devices (`Custom:DND6001`). */
  devices: ReadonlySet<string> | 'all';
}

const EVERYTHING: Visible = { presenceNames: 'all', hints: 'all', devices: 'all' };

/**
 * What each caller sees, worked out once per dialplan and kind of caller rather than per event and stream: an event
 * fanned out to thousands of streams asks a set. A reloaded dialplan is a new object, so nothing stale is kept.
 */
export class VisibilityCache {
  private readonly byDialplan = new WeakMap<Dialplan, Map<string, Visible>>();

  constructor(private readonly options: {
    dialplan: () => Dialplan;
    defaultContext: string;
    devicesOf: (hint: Hint) => readonly string[];
    /** A user's own devices beyond their hints' (the modes their state actions switch). */
    ownDevices: (user: string) => readonly string[];
  }) {}

  of(caller: Caller): Visible {
    if (caller.role === 'admin') return EVERYTHING;
    const dialplan = this.options.dialplan();
    let callers = this.byDialplan.get(dialplan);
    if (!callers) this.byDialplan.set(dialplan, (callers = new Map()));
    const key = caller.role === 'user' ? `user:${caller.name}@${caller.context}` : 'anonymous';
    let visible = callers.get(key);
    if (!visible) callers.set(key, (visible = this.work(dialplan, caller)));
    return visible;
  }

  private work(dialplan: Dialplan, caller: Caller): Visible {
    const hints = visibleHints(dialplan, caller, this.options.defaultContext);
    const devices = new Set(hints.flatMap((hint) => this.options.devicesOf(hint)));
    if (caller.role === 'user') for (const device of this.options.ownDevices(caller.name)) devices.add(device);
    return { presenceNames: visiblePresenceNames(dialplan, caller, this.options.defaultContext), hints: new Set(hints), devices };
  }
}
