/**
 * Resource lists as Asterisk's res_pjsip_exten_state/res_pjsip_pubsub read them from pjsip.conf (`type=resource_list`):
 * `event=presence|dialog`, `list_item=` (repeated, or comma-separated; an item may name another list),
 * `full_state=yes|no`, `notification_batch_interval=` milliseconds. Loops and unusable values stop the load with
 * file:line, as a half-read list file must not be served.
 */
import { lastValue, PjsipConfigError, type PjsipSection } from '../security/pjsip-sections.js';

export interface ResourceList {
  readonly name: string;
  readonly event: string;
  /** The list's items in order, other lists expanded in place (each resource once). */
  readonly members: readonly string[];
  /** RFC 5367 lists: each member's URI as the watcher wrote it (echoed in the RLMI), in the order of `members`. */
  readonly uris?: readonly string[];
  /** `full_state=yes`: every NOTIFY carries every resource; no (the default): after the first, only changed ones (RFC 4662 §5.2). */
  readonly fullState: boolean;
  /** Changes within this many milliseconds go out in one NOTIFY. */
  readonly batchMs: number;
  readonly file: string;
  readonly line: number;
}

/** The events Asterisk accepts for lists (res_pjsip_pubsub: `event` must name a registered package). */
export const LIST_EVENTS: ReadonlySet<string> = new Set(['presence', 'dialog']);

/** Upper bound on a list's resources (after nested lists are expanded): one NOTIFY carries all of them. */
export const MAX_LIST_MEMBERS = 1000;

interface RawList {
  section: PjsipSection;
  items: Array<{ name: string; file: string; line: number }>;
}

/** The resource lists of a pjsip.conf's sections; throws PjsipConfigError naming file:line. */
export function resourceListsOf(sections: readonly PjsipSection[]): Map<string, ResourceList> {
  const raw = new Map<string, RawList>();
  for (const section of sections) {
    if (section.type !== 'resource_list') continue;
    const items = section.entries
      .filter((entry) => entry.key === 'list_item')
      .flatMap((entry) => entry.value.split(',').map((name) => ({ name: name.trim(), file: entry.file, line: entry.line })))
      .filter((item) => item.name !== '');
    raw.set(section.name, { section, items });
  }
  const lists = new Map<string, ResourceList>();
  for (const { section } of raw.values()) {
    const event = lastValue(section, 'event');
    if (event === undefined) throw new PjsipConfigError(section, `resource list [${section.name}] has no event= (presence or dialog)`);
    if (!LIST_EVENTS.has(event)) throw new PjsipConfigError(at(section, 'event'), `resource list [${section.name}]: event '${event}' is not presence or dialog`);
    const members = expand(section.name, raw, [section.name]);
    if (members.length === 0) throw new PjsipConfigError(section, `resource list [${section.name}] has no list_item`);
    if (members.length > MAX_LIST_MEMBERS) throw new PjsipConfigError(section, `resource list [${section.name}] has ${members.length} resources (at most ${MAX_LIST_MEMBERS})`);
    lists.set(section.name, {
      name: section.name,
      event,
      members,
      fullState: yesNo(section, 'full_state', false),
      batchMs: milliseconds(section, 'notification_batch_interval'),
      file: section.file,
      line: section.line,
    });
  }
  return lists;
}

/** The items of `name`, nested lists expanded depth-first; a list reached again on its own path is a loop. */
function expand(name: string, raw: Map<string, RawList>, path: string[]): string[] {
  const members: string[] = [];
  const seen = new Set<string>();
  const add = (member: string): void => {
    if (seen.has(member)) return;
    seen.add(member);
    members.push(member);
  };
  for (const item of raw.get(name)!.items) {
    const nested = raw.get(item.name);
    if (nested) {
      if (path.includes(item.name)) {
        throw new PjsipConfigError(item, `resource list loop: ${[...path, item.name].join(' → ')}`);
      }
      for (const member of expand(item.name, raw, [...path, item.name])) add(member);
    } else {
      add(item.name);
    }
  }
  return members;
}

function at(section: PjsipSection, key: string): { file: string; line: number } {
  return [...section.entries].reverse().find((entry) => entry.key === key) ?? section;
}

function yesNo(section: PjsipSection, key: string, fallback: boolean): boolean {
  const value = lastValue(section, key);
  if (value === undefined) return fallback;
  if (/^(yes|true|on|1)$/i.test(value)) return true;
  if (/^(no|false|off|0)$/i.test(value)) return false;
  throw new PjsipConfigError(at(section, key), `${key}: expected yes or no, not '${value}'`);
}

function milliseconds(section: PjsipSection, key: string): number {
  const value = lastValue(section, key);
  if (value === undefined) return 0;
  if (!/^\d{1,7}$/.test(value)) throw new PjsipConfigError(at(section, key), `${key}: expected milliseconds, not '${value}'`);
  return Number(value);
}
