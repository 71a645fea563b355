// Reads RFC 4235 dialog-info bodies as a phone would, and validates them against fixtures/schema/dialog-info.xsd.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

export interface DialogInfo {
  version: number;
  state: string;
  entity: string;
  dialogs: Array<{ id: string; direction: string | undefined; state: string; rendering: string | undefined; note: string | undefined }>;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, isArray: (name) => name === 'dialog' || name === 'param' });

export function parseDialogInfo(body: string): DialogInfo {
  const root = parser.parse(body)['dialog-info'];
  if (!root) throw new Error(`not a dialog-info document:\n${body}`);
  return {
    version: Number(root['@_version']),
    state: root['@_state'],
    entity: root['@_entity'],
    dialogs: (root.dialog ?? []).map((dialog: Record<string, any>) => ({
      id: dialog['@_id'],
      direction: dialog['@_direction'],
      state: typeof dialog.state === 'object' ? dialog.state['#text'] : dialog.state,
      rendering: dialog.local?.target?.param?.find((param: Record<string, string>) => param['@_pname'] === '+sip.rendering')?.['@_pvalue'],
      note: typeof dialog.note === 'object' ? dialog.note['#text'] : dialog.note,
    })),
  };
}

export const DIALOG_INFO_SCHEMA = path.join(process.cwd(), 'fixtures', 'schema', 'dialog-info.xsd');

/** xmllint's complaints about `body` against the RFC 4235 schema; '' when it validates. */
export function dialogInfoSchemaErrors(body: string): string {
  const result = spawnSync('xmllint', ['--noout', '--nonet', '--schema', DIALOG_INFO_SCHEMA, '-'], { input: body, encoding: 'utf8' });
  if (result.error) throw result.error;
  return result.status === 0 ? '' : result.stderr;
}
