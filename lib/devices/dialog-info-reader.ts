/**
 * Reads the RFC 4235 dialog-info documents a phone or a proxy (Kamailio's pua_dialoginfo, OpenSIPS, a desk phone)
 * PUBLISHes, and says what device state they add up to. The mapping is in docs/BLF.md ("Publishing dialogs").
 */
import { attribute, childrenOf, readXmlRoot, textOf, type XmlElement } from '../util/xml-reader.js';
import { aggregateDeviceStates, DeviceStateError, type DeviceState } from './device-state.js';

/** Larger bodies are refused before parsing; a phone's few dialogs take well under 4 KiB. */
export const MAX_DIALOG_INFO_BYTES = 65_536;

const DIALOG_INFO_NAMESPACE = 'urn:ietf:params:xml:ns:dialog-info';

/** RFC 4235 §3.7.1: the five dialog states. */
const PHASES = ['trying', 'proceeding', 'early', 'confirmed', 'terminated'] as const;
export type PublishedPhase = typeof PHASES[number];

export interface PublishedDialog {
  id: string;
  /** Who sent the INVITE: the presentity (initiator) or the other party (recipient); absent when not said. */
  direction?: 'initiator' | 'recipient';
  phase: PublishedPhase;
  /** The local target carries +sip.rendering=no (RFC 4235 §4, RFC 3840): the call is on hold. */
  held?: true;
}

export interface ParsedDialogInfo {
  entity: string;
  version: number;
  dialogs: PublishedDialog[];
}

/** Dialog-info elements are accepted in their namespace and, for sloppy publishers, in no namespace. */
function isDialogInfo(element: XmlElement, local: string): boolean {
  return element.local === local && (element.namespace === DIALOG_INFO_NAMESPACE || element.namespace === '');
}

function malformed(problem: string): DeviceStateError {
  return new DeviceStateError(`Malformed dialog-info: ${problem}`);
}

/** <local><target><param pname="+sip.rendering" pvalue="no"/></target></local>: the presentity holds the call. */
function isHeld(dialog: XmlElement[]): boolean {
  const local = dialog.find((child) => isDialogInfo(child, 'local'));
  const target = local && childrenOf(local).find((child) => isDialogInfo(child, 'target'));
  return target !== undefined && childrenOf(target).some((param) => isDialogInfo(param, 'param') &&
    attribute(param, 'pname')?.toLowerCase() === '+sip.rendering' && attribute(param, 'pvalue')?.toLowerCase() === 'no');
}

function readDialog(dialog: XmlElement): PublishedDialog {
  const id = attribute(dialog, 'id');
  if (!id) throw malformed('a dialog has no id');
  const direction = attribute(dialog, 'direction');
  if (direction !== undefined && direction !== 'initiator' && direction !== 'recipient') {
    throw malformed(`dialog '${id}' has direction '${direction}' (expected initiator or recipient)`);
  }
  const children = childrenOf(dialog);
  const stateElement = children.find((child) => isDialogInfo(child, 'state'));
  const phase = stateElement && PHASES.find((known) => known === textOf(stateElement).toLowerCase());
  if (phase === undefined) throw malformed(`dialog '${id}' has no state of ${PHASES.join(', ')}`);
  return { id, ...(direction !== undefined ? { direction } : {}), phase, ...(isHeld(children) ? { held: true as const } : {}) };
}

/**
 * Parses a published dialog-info document: namespaces resolved whatever the prefixes, unknown elements ignored.
 * Throws DeviceStateError ("Malformed dialog-info…") for anything that is not a well-formed full-state document of at
 * most MAX_DIALOG_INFO_BYTES with the attributes RFC 4235 §4.1 requires, whose dialogs have an id and a known state,
 * and for any DOCTYPE. A partial document is refused: each publication replaces the publisher's whole state.
 */
export function parsePublishedDialogInfo(xml: string): ParsedDialogInfo {
  const root = readXmlRoot(xml, MAX_DIALOG_INFO_BYTES, 'dialog-info', (message) => new DeviceStateError(message));
  const entity = root !== undefined && isDialogInfo(root, 'dialog-info') ? attribute(root, 'entity') : undefined;
  if (root === undefined || !entity) throw malformed('no dialog-info element with an entity attribute');
  const version = attribute(root, 'version') ?? '';
  if (!/^\d{1,15}$/.test(version)) throw malformed(`version '${version}' is not a whole number`);
  const state = attribute(root, 'state');
  if (state === 'partial') throw malformed("state 'partial' is not accepted: publish the full state");
  if (state !== 'full') throw malformed(`state '${state ?? ''}' (expected full)`);
  const dialogs = childrenOf(root).filter((child) => isDialogInfo(child, 'dialog')).map(readDialog);
  return { entity, version: Number(version), dialogs };
}

/**
 * One dialog as a device state: a call that is up is INUSE (ONHOLD when the presentity holds it); one that is being
 * set up rings at the presentity when it is the recipient (RINGING: watchers may pick it up) and is the presentity's
 * own outgoing call otherwise (INUSE). Without a direction, `trying` can only be an outgoing call; `proceeding` and
 * `early` are taken as ringing. A terminated dialog is no call.
 */
function dialogState(dialog: PublishedDialog): DeviceState {
  switch (dialog.phase) {
    case 'terminated': return 'NOT_INUSE';
    case 'confirmed': return dialog.held ? 'ONHOLD' : 'INUSE';
    case 'trying': return dialog.direction === 'recipient' ? 'RINGING' : 'INUSE';
    case 'proceeding':
    case 'early': return dialog.direction === 'initiator' ? 'INUSE' : 'RINGING';
  }
}

/** What a document's dialogs add up to, with Asterisk's rules (a ringing call during another one: RINGINUSE). */
export function publishedDeviceState(document: ParsedDialogInfo): DeviceState {
  return aggregateDeviceStates(document.dialogs.map(dialogState));
}
