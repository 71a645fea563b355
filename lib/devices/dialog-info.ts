/**
 * RFC 4235 dialog-info bodies (application/dialog-info+xml) for busy-lamp keys: one <dialog> that follows the
 * hint's extension state. The mapping and the phone notes behind it: docs/BLF.md.
 */
import { xmlValue } from '../presence/pidf.js';
import type { ExtensionState } from './device-state.js';

export const DIALOG_INFO_TYPE = 'application/dialog-info+xml';

/** RFC 4235 §3.7.1 dialog states we send: a call that rings, one that is up, or none. */
export type DialogPhase = 'early' | 'confirmed' | 'terminated';

export interface DialogInfoInput {
  /** The presentity, 'sip:2000@example.com'. */
  entity: string;
  /** The dialog-info version, or a mark the caller replaces per watcher. */
  version: string;
  /** The <dialog> id: one per call (see DialogPackage), so a lamp never goes back from confirmed to early. */
  dialogId: string;
  state: ExtensionState;
}

/** Idle and Unavailable have no call; Ringing and InUse&Ringing ring (early); the rest are up. */
export function dialogPhase(state: ExtensionState): DialogPhase {
  switch (state) {
    case 'Idle':
    case 'Unavailable': return 'terminated';
    case 'Ringing':
    case 'InUse&Ringing': return 'early';
    case 'InUse':
    case 'Busy':
    case 'Hold': return 'confirmed';
  }
}

/** Where the note that tells Unavailable from Idle goes: the PIDF data-model note, an extension RFC 4235 §4 allows. */
const NOTE_NAMESPACE = 'urn:ietf:params:xml:ns:pidf:data-model';

/**
 * One full-state document. Ringing carries direction="recipient": phones offer call pickup only for a dialog the
 * watched party receives. Hold is a confirmed dialog whose local target has +sip.rendering=no (RFC 4235 §4,
 * RFC 3840), which is how Polycom and Yealink show a held line. Unavailable is terminated (there is no call) with a
 * note, so a watcher that reads it can tell "not registered" from "idle".
 */
export function buildDialogInfo(input: DialogInfoInput): string {
  const phase = dialogPhase(input.state);
  const entity = xmlValue(input.entity);
  const direction = phase === 'early' ? ' direction="recipient"' : '';
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${input.version}" state="full" entity="${entity}">`,
    `<dialog id="${xmlValue(input.dialogId)}"${direction}>`,
    `<state>${phase}</state>`,
  ];
  if (input.state === 'Hold') {
    lines.push('<local>', `<target uri="${entity}">`, '<param pname="+sip.rendering" pvalue="no"/>', '</target>', '</local>');
  }
  if (input.state === 'Unavailable') lines.push(`<note xmlns="${NOTE_NAMESPACE}">Unavailable</note>`);
  lines.push('</dialog>', '</dialog-info>', '');
  return lines.join('\n');
}
