// xmllint (libxml2) as an independent XML checker: well-formedness, and validity when a schema is given.
import { run } from './child.js';

const XMLLINT_TIMEOUT_MS = 10000;

export interface XmlCheck {
  ok: boolean;
  /** xmllint's messages: what is wrong, and where. */
  messages: string;
}

/** Checks one document, passed on stdin so the bytes are exactly the ones on the wire. */
export async function xmllint(document: Buffer | string, schemaFile?: string): Promise<XmlCheck> {
  const args = ['--noout', ...(schemaFile ? ['--schema', schemaFile] : []), '-'];
  const result = await run('xmllint', args, { input: document, timeoutMs: XMLLINT_TIMEOUT_MS });
  return { ok: result.code === 0, messages: `${result.stderr}${result.stdout}`.trim() };
}
