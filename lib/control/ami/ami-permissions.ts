/**
 * AMI classes: what manager.conf's read=/write= grant, what the Events action filters, what an event's Privilege
 * header names. Bit values and names are Asterisk's (manager.h EVENT_FLAG_*, manager.c perms[]), so a numeric
 * EventMask means the same thing here.
 */
export const AMI_CLASSES = {
  system: 1 << 0,
  call: 1 << 1,
  log: 1 << 2,
  verbose: 1 << 3,
  command: 1 << 4,
  agent: 1 << 5,
  user: 1 << 6,
  config: 1 << 7,
  dtmf: 1 << 8,
  reporting: 1 << 9,
  cdr: 1 << 10,
  dialplan: 1 << 11,
  originate: 1 << 12,
  agi: 1 << 13,
  cc: 1 << 15,
  aoc: 1 << 16,
  test: 1 << 17,
  security: 1 << 18,
  message: 1 << 30,
} as const;

/** `all` is INT_MAX in Asterisk: every class. */
export const ALL_CLASSES = 0x7fffffff;

/** Label order of manager.c perms[], `all` last: the order Privilege headers list them in. */
const LABELS: ReadonlyArray<readonly [string, number]> = [...Object.entries(AMI_CLASSES), ['all', ALL_CLASSES]];
const BY_NAME = new Map<string, number>([...LABELS, ['none', 0]]);

// ast_true() / ast_false() words ('1' and '0' too, but digits are read as a mask first).
const TRUE_WORDS = new Set(['yes', 'true', 'y', 't', 'on']);
const FALSE_WORDS = new Set(['no', 'false', 'n', 'f', 'off']);

export interface ClassList {
  mask: number;
  /** Names that are no class; Asterisk ignores them silently, the config reader reports them. */
  unknown: string[];
}

/** `read = system,call,reporting` (manager.c get_perm): the classes named in a comma-separated list. */
export function parseClassList(text: string): ClassList {
  let mask = 0;
  const unknown: string[] = [];
  for (const item of text.split(',')) {
    const name = item.trim().toLowerCase();
    if (name === '') continue;
    const bits = BY_NAME.get(name);
    if (bits === undefined) unknown.push(item.trim());
    else mask |= bits;
  }
  return { mask, unknown };
}

/**
 * An EventMask (manager.c strings_to_mask): a number is the mask itself, on/yes/true every class, off/no/false
 * none, anything else a class list. Empty text is no mask at all (undefined), which the Events action rejects.
 */
export function parseEventMask(text: string): number | undefined {
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) | 0;
  const word = text.toLowerCase();
  if (FALSE_WORDS.has(word)) return 0;
  if (TRUE_WORDS.has(word)) return ALL_CLASSES;
  return parseClassList(text).mask;
}

/** An event's or action's classes as Asterisk prints them (authority_to_str): 'call,all', or '<none>'. */
export function classNames(mask: number): string {
  const names = LABELS.filter(([, bits]) => (mask & bits) !== 0).map(([name]) => name);
  return names.length === 0 ? '<none>' : names.join(',');
}
