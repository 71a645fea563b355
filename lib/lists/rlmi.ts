/**
 * RFC 4662 list NOTIFY bodies: `multipart/related` (RFC 2387) whose root is an RLMI document (`application/rlmi+xml`,
 * §5.3) and whose other parts are the resources' own bodies, each named by its Content-ID. The parts are built once per
 * resource state and reused by every list and watcher that carries them; only the small RLMI root is per NOTIFY.
 */
import { xmlValue as escapeXml } from '../presence/pidf.js';

export const RLMI_TYPE = 'application/rlmi+xml';
/** The root part's Content-ID, named by the `start` parameter. */
const ROOT_ID = 'rlmi@presenced';

/**
 * The Content-Type of a list NOTIFY; the boundary names the resources' body type, so each has its own. The boundary
 * is a token, sent unquoted: belle-sip (Linphone) takes quotes around it as part of the boundary and finds no part.
 */
export function multipartType(boundary: string): string {
  return `multipart/related;type="${RLMI_TYPE}";start="<${ROOT_ID}>";boundary=${boundary}`;
}

/** One resource of a list, as the RLMI describes it. */
export interface ListResource {
  readonly uri: string;
  /** The RLMI `<name>`; none for members a watcher named itself (Linphone renames its friends to it). */
  readonly name: string | undefined;
  /** Content-ID of its body part; undefined when the resource has no state to send (terminated). */
  readonly cid: string | undefined;
  /** `terminated` with a reason for members that are not served (RFC 4662 §5.3: `rejected`, `noresource`). */
  readonly terminated?: string;
}

/**
 * One body part, with its MIME headers: built once per resource state. `bareId` writes the Content-Id without the
 * angle brackets of RFC 2392, for watchers that compare it with the RLMI `cid` as it is (see linphone-compat.ts).
 */
export function bodyPart(contentType: string, cid: string, body: string, bareId = false): string {
  const id = bareId ? cid : `<${cid}>`;
  return `Content-Transfer-Encoding: binary\r\nContent-Id: ${id}\r\nContent-Type: ${contentType};charset="UTF-8"\r\n\r\n${body}`;
}

/**
 * The whole body: `version` is written as given (the notifier's per-watcher counter mark, or a number). The parts are
 * those of the resources with a `cid`, in the same order.
 */
export function listBody(boundary: string, listUri: string, version: string, fullState: boolean, resources: readonly ListResource[], parts: readonly string[]): string {
  let rlmi = `<?xml version="1.0" encoding="UTF-8"?>\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="${escapeXml(listUri)}" version="${version}" fullState="${fullState}">\n`;
  for (const resource of resources) {
    const id = resource.cid ?? resource.name ?? resource.uri;
    const instance = resource.terminated
      ? `<instance id="${escapeXml(id)}" state="terminated" reason="${resource.terminated}"/>`
      : `<instance id="${escapeXml(id)}" state="active" cid="${escapeXml(resource.cid!)}"/>`;
    const name = resource.name === undefined ? '' : `<name>${escapeXml(resource.name)}</name>`;
    rlmi += `<resource uri="${escapeXml(resource.uri)}">${name}${instance}</resource>\n`;
  }
  rlmi += '</list>\n';
  let body = `--${boundary}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${ROOT_ID}>\r\nContent-Type: ${RLMI_TYPE};charset="UTF-8"\r\n\r\n${rlmi}\r\n`;
  for (const part of parts) body += `--${boundary}\r\n${part}\r\n`;
  return `${body}--${boundary}--\r\n`;
}
