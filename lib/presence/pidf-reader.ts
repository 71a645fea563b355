/**
 * Reads PIDF documents (RFC 3863) with the RFC 4479 data model and RFC 4480 RPID — the bodies phones PUBLISH —
 * and maps them onto our presence states. The mapping tables are in docs/PUBLISH.md.
 */
import { parseStateName, PresenceError, stripControlCharacters, type PresenceState, type PresenceStateName } from './state.js';
import { attribute, childrenOf, firstText, readXmlRoot, textOf, type XmlElement } from '../util/xml-reader.js';

/** Larger bodies are refused before parsing; real PUBLISH bodies are well under 4 KiB. */
export const MAX_PIDF_BYTES = 65_536;

const PIDF_NAMESPACE = 'urn:ietf:params:xml:ns:pidf';
const DATA_MODEL_NAMESPACE = 'urn:ietf:params:xml:ns:pidf:data-model';
const RPID_NAMESPACE = 'urn:ietf:params:xml:ns:pidf:rpid';

export interface ParsedDigiumPresence { type: string; subtype: string; message: string }

export interface ParsedTuple {
  id: string;
  basic?: string;
  contact?: string;
  /** The tuple's first <note>. */
  note?: string;
  /** Asterisk's private `<digium_presence>` in the tuple's <status>. */
  digium?: ParsedDigiumPresence;
}

/** An RFC 4479 <dm:person>. */
export interface ParsedPerson {
  id: string;
  /** Local names of the RFC 4480 <rpid:activities> children, in document order ('away', 'on-the-phone', …). */
  activities: string[];
  note?: string;
}

export interface ParsedPidf {
  entity: string;
  /** The first <note> directly in <presence>. */
  note?: string;
  tuples: ParsedTuple[];
  /** Present only when the document has <dm:person> elements. */
  persons?: ParsedPerson[];
}

/** PIDF elements are accepted in the PIDF namespace and, for sloppy publishers, in no namespace. */
function isPidf(element: XmlElement, local: string): boolean {
  return element.local === local && (element.namespace === PIDF_NAMESPACE || element.namespace === '');
}

function readTuple(tuple: XmlElement): ParsedTuple {
  const children = childrenOf(tuple);
  const status = children.find((child) => isPidf(child, 'status'));
  const statusChildren = status === undefined ? [] : childrenOf(status);
  const basic = firstText(statusChildren, (child) => isPidf(child, 'basic'));
  const contact = firstText(children, (child) => isPidf(child, 'contact'));
  const note = firstText(children, (child) => isPidf(child, 'note'));
  // Asterisk writes digium_presence in the document's default namespace; it has none of its own.
  const digium = statusChildren.find((child) => child.local === 'digium_presence');
  return {
    id: attribute(tuple, 'id') ?? '',
    ...(basic !== undefined ? { basic } : {}),
    ...(contact !== undefined ? { contact } : {}),
    ...(note !== undefined ? { note } : {}),
    ...(digium !== undefined ? {
      digium: { type: attribute(digium, 'type') ?? '', subtype: attribute(digium, 'subtype') ?? '', message: textOf(digium) },
    } : {}),
  };
}

/** RFC 4479 §6.1 person with RFC 4480 §3.2 activities; the person <note> is dm:note (PIDF's note is tolerated). */
function readPerson(person: XmlElement): ParsedPerson {
  const children = childrenOf(person);
  const activities: string[] = [];
  for (const child of children) {
    if (child.namespace !== RPID_NAMESPACE || child.local !== 'activities') continue;
    for (const activity of childrenOf(child)) {
      // <rpid:note> describes the activities, it is not one; elements of other namespaces are extensions.
      if (activity.namespace === RPID_NAMESPACE && activity.local !== 'note') activities.push(activity.local);
    }
  }
  const note = firstText(children, (child) => child.local === 'note' && (child.namespace === DATA_MODEL_NAMESPACE || isPidf(child, 'note')));
  return { id: attribute(person, 'id') ?? '', activities, ...(note !== undefined ? { note } : {}) };
}

/**
 * Parses a PIDF document: namespaces resolved whatever the prefixes, unknown elements ignored, texts trimmed.
 * Throws PresenceError ("Malformed PIDF…") for anything that is not a well-formed PIDF document of at most
 * MAX_PIDF_BYTES, and for any DOCTYPE (no entity expansion, no external references).
 */
export function parsePidf(xml: string): ParsedPidf {
  const root = readXmlRoot(xml, MAX_PIDF_BYTES, 'PIDF', (message) => new PresenceError(message));
  const entity = root !== undefined && isPidf(root, 'presence') ? attribute(root, 'entity') : undefined;
  if (root === undefined || entity === undefined) {
    throw new PresenceError('Malformed PIDF: no <presence> element with an entity attribute');
  }
  const children = childrenOf(root);
  const note = firstText(children, (child) => isPidf(child, 'note'));
  const persons = children
    .filter((child) => child.namespace === DATA_MODEL_NAMESPACE && child.local === 'person')
    .map(readPerson);
  return {
    entity,
    ...(note !== undefined ? { note } : {}),
    tuples: children.filter((child) => isPidf(child, 'tuple')).map(readTuple),
    ...(persons.length > 0 ? { persons } : {}),
  };
}

/**
 * RFC 4480 §3.2 activities → our states. Activities not listed (unknown, other, extensions) say nothing.
 * With several activities the most restrictive state wins: ACTIVITY_PRECEDENCE.
 */
// A Map, not an object literal: activity names come from the network, and `constructor` or `__proto__` must not
// find Object.prototype's members.
const ACTIVITY_STATES: ReadonlyMap<string, PresenceStateName> = new Map<string, PresenceStateName>([
  ['busy', 'dnd'], ['on-the-phone', 'dnd'], ['meeting', 'dnd'], ['appointment', 'dnd'], ['presentation', 'dnd'], ['performance', 'dnd'],
  ['worship', 'dnd'], ['steering', 'dnd'], ['vacation', 'xa'], ['holiday', 'xa'], ['travel', 'xa'], ['sleeping', 'xa'],
  ['permanent-absence', 'xa'], ['away', 'away'], ['breakfast', 'away'], ['dinner', 'away'], ['meal', 'away'], ['shopping', 'away'],
  ['in-transit', 'away'], ['playing', 'away'], ['spectator', 'away'], ['tv', 'away'], ['looking-for-work', 'away'], ['working', 'available'],
]);

const ACTIVITY_PRECEDENCE: readonly PresenceStateName[] = ['dnd', 'xa', 'away', 'available'];

/** The activity that names its state plainly adds no subtype; any other one is kept as the subtype ("meeting"). */
const PLAIN_ACTIVITIES: ReadonlySet<string> = new Set(['busy', 'away']);

function stateFromActivities(activities: string[]): { state: PresenceStateName; subtype: string } | undefined {
  let best: { state: PresenceStateName; activity: string } | undefined;
  for (const activity of activities) {
    const state = ACTIVITY_STATES.get(activity);
    if (state === undefined) continue;
    if (best === undefined || ACTIVITY_PRECEDENCE.indexOf(state) < ACTIVITY_PRECEDENCE.indexOf(best.state)) best = { state, activity };
  }
  return best && { state: best.state, subtype: PLAIN_ACTIVITIES.has(best.activity) ? '' : best.activity };
}

/**
 * What a published document says, as one of our states (docs/PUBLISH.md):
 * 1. the first `<digium_presence>` with a known type: type, subtype and its text as the message;
 * 2. else the RPID activities of the persons (ACTIVITY_STATES, most restrictive first), the subtype naming the activity;
 * 3. else the first `<basic>`: open → available, closed → unavailable.
 * For 2 and 3 the message is the first note: a person's, else the document's, else a tuple's.
 * Undefined when the document carries none of the three.
 */
export function publishedState(document: ParsedPidf): PresenceState | undefined {
  for (const tuple of document.tuples) {
    const state = tuple.digium && parseStateName(tuple.digium.type);
    if (tuple.digium && state !== undefined) {
      return clean({ state, subtype: tuple.digium.subtype, message: tuple.digium.message });
    }
  }
  const message = document.persons?.find((person) => person.note !== undefined)?.note ??
    document.note ?? document.tuples.find((tuple) => tuple.note !== undefined)?.note ?? '';
  const fromActivities = stateFromActivities(document.persons?.flatMap((person) => person.activities) ?? []);
  if (fromActivities) return clean({ ...fromActivities, message });
  const basic = document.tuples.find((tuple) => tuple.basic !== undefined)?.basic?.toLowerCase();
  if (basic === 'open') return clean({ state: 'available', subtype: '', message });
  if (basic === 'closed') return clean({ state: 'unavailable', subtype: '', message });
  return undefined;
}

function clean({ state, subtype, message }: PresenceState): PresenceState {
  return Object.freeze({ state, subtype: stripControlCharacters(subtype), message: stripControlCharacters(message) });
}
