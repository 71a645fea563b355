/**
 * Request-contained resource lists (RFC 5367, what Linphone sends): a SUBSCRIBE to the list server's URI carries the
 * list itself, an RFC 4826 `application/resource-lists+xml` document, often `Content-Encoding: deflate`. Reading it is
 * bounded three times: the body as received by the request size limit, the inflated document by MAX_LIST_DOCUMENT_BYTES
 * (a deflate bomb stops there, not in memory), the entries by the member limit.
 *
 * Such a list has no name in any file, so the subscription's resource is the list itself: the server's user followed by
 * each member URI (`rls sip:6001@pbx sip:6002@pbx`), kept and persisted with the subscription like an extension, and
 * read back by `parseRequestListName` after a restart.
 */
import { inflateSync } from 'node:zlib';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ERRORS, sipAnswer, type SipAnswer } from '../errors.js';
import { splitHeaderValues } from '../sip/headers.js';
import type { SipRequest } from '../sip/message.js';
import { parseUri } from '../sip/uri.js';

export const RESOURCE_LISTS_TYPE = 'application/resource-lists+xml';
/** The largest list document read, after inflating. */
export const MAX_LIST_DOCUMENT_BYTES = 64 * 1024;
/** RFC 4826 lists nest; deeper than this is no phone's buddy list. */
const MAX_NESTING = 8;
/** Longest detail a reason phrase carries from the body's errors. */
const MAX_DETAIL = 120;

/** A body that cannot be served: the answer, with the headers RFC 3261 §21.4.13 asks for (Accept, Accept-Encoding). */
export class ListBodyError extends Error {
  constructor(readonly answer: SipAnswer, readonly headers: Array<[string, string]> = []) {
    super(answer.reason);
  }
}

/** One member of a request-contained list: the URI as the watcher wrote it, and the user it resolves as. */
export interface RequestListMember {
  readonly uri: string;
  /** The URI's user part (a tel: URI's number; '' for URIs without one, which never resolve). */
  readonly user: string;
}

/**
 * The member URIs of an RFC 5367 SUBSCRIBE, in document order, each user once; throws ListBodyError for a request that
 * is not one (missing Require or Content-Disposition), an unsupported type or encoding, a document that is not a
 * resource list, and one over the limits.
 */
export function requestListMembers(request: SipRequest, maxMembers: number): RequestListMember[] {
  // RFC 5367 §4 (RFC 5364 §4): the subscriber requires the extension and marks the body as the recipient list.
  if (!tokens(request, 'require').includes('recipient-list-subscribe')) {
    throw new ListBodyError(sipAnswer(ERRORS.RECIPIENT_LIST_REQUIRED, 'Require: recipient-list-subscribe'));
  }
  const disposition = (request.get('content-disposition') ?? '').split(';')[0]!.trim().toLowerCase();
  if (disposition !== 'recipient-list') {
    throw new ListBodyError(sipAnswer(ERRORS.RECIPIENT_LIST_REQUIRED, 'Content-Disposition: recipient-list'));
  }
  const type = (request.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== RESOURCE_LISTS_TYPE) {
    throw new ListBodyError(sipAnswer(ERRORS.UNSUPPORTED_MEDIA_TYPE), [['Accept', RESOURCE_LISTS_TYPE]]);
  }
  const document = inflated(request);
  return members(document, maxMembers);
}

/** The body's document: RFC 3261 §20.12 lists the encodings in the order applied; we undo `deflate` (RFC 1950). */
function inflated(request: SipRequest): string {
  const encodings = tokens(request, 'content-encoding').filter((encoding) => encoding !== 'identity');
  if (encodings.length > 1 || (encodings.length === 1 && encodings[0] !== 'deflate')) {
    throw new ListBodyError(sipAnswer(ERRORS.UNSUPPORTED_MEDIA_TYPE), [['Accept-Encoding', 'deflate, identity']]);
  }
  const raw = request.rawBody;
  if (raw.length === 0) throw new ListBodyError(sipAnswer(ERRORS.BAD_BODY, 'the SUBSCRIBE has no resource list'));
  if (encodings.length === 0) {
    if (raw.length > MAX_LIST_DOCUMENT_BYTES) throw tooLarge();
    return raw.toString('utf8');
  }
  try {
    return inflateSync(raw, { maxOutputLength: MAX_LIST_DOCUMENT_BYTES }).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new ListBodyError(sipAnswer(ERRORS.BAD_BODY, 'the body is not deflate (RFC 1950) data'));
  }
}

function tooLarge(): ListBodyError {
  return new ListBodyError(sipAnswer(ERRORS.LIST_TOO_LARGE, `the resource list is over ${MAX_LIST_DOCUMENT_BYTES} bytes`));
}

// Document order matters (the RLMI lists members as the watcher did), so the parser keeps it; prefixes are dropped,
// as every element read here is of the resource-lists namespace.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
});

/** The parser's node: `{ [name]: children, ':@'?: attributes }`, or text. */
type XmlNode = Record<string, unknown>;

function childrenNamed(nodes: unknown, name: string): XmlNode[] {
  return Array.isArray(nodes) ? (nodes as XmlNode[]).filter((node) => Array.isArray(node[name])) : [];
}

/** RFC 4826 §3.2: resource-lists holds lists; a list holds entries and more lists, read in document order. */
function members(document: string, maxMembers: number): RequestListMember[] {
  if (/<!DOCTYPE/i.test(document)) throw badList('DOCTYPE is not allowed');
  const validation = XMLValidator.validate(document);
  if (validation !== true) throw badList(`not XML (line ${validation.err.line}): ${validation.err.msg}`);
  let nodes: unknown;
  try {
    nodes = parser.parse(document);
  } catch (error) {
    throw badList((error as Error).message);
  }
  const [root] = childrenNamed(nodes, 'resource-lists');
  if (!root) throw badList('no resource-lists element');
  const found: RequestListMember[] = [];
  const users = new Set<string>();
  const add = (entry: XmlNode): void => {
    const uri = (entry[':@'] as XmlNode | undefined)?.['uri'];
    if (typeof uri !== 'string' || uri.trim() === '') throw badList('an entry without a uri');
    const member = memberOf(uri.trim());
    const key = member.user === '' ? member.uri : member.user;
    if (users.has(key)) return;
    users.add(key);
    found.push(member);
    if (found.length > maxMembers) {
      throw new ListBodyError(sipAnswer(ERRORS.LIST_TOO_LARGE, `the resource list has more than ${maxMembers} entries`));
    }
  };
  const visit = (list: XmlNode, depth: number): void => {
    if (depth > MAX_NESTING) throw badList(`lists nested deeper than ${MAX_NESTING}`);
    for (const child of list['list'] as XmlNode[]) {
      if (Array.isArray(child['entry'])) add(child);
      else if (Array.isArray(child['list'])) visit(child, depth + 1);
    }
  };
  for (const list of childrenNamed(root['resource-lists'], 'list')) visit(list, 1);
  if (found.length === 0) throw badList('the resource list has no entry');
  return found;
}

function memberOf(uri: string): RequestListMember {
  // Spaces separate the members in the subscription's resource name; a URI never holds one unescaped.
  if (/\s/.test(uri)) throw badList('an entry uri with white space');
  const parsed = parseUri(uri);
  const user = parsed?.user === undefined ? '' : safeDecode(parsed.user);
  return { uri, user };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The parser's words may hold what a Reason-Phrase may not: sipAnswer takes that out. */
function badList(detail: string): ListBodyError {
  return new ListBodyError(sipAnswer(ERRORS.BAD_BODY, `resource list: ${detail}`.slice(0, MAX_DETAIL)));
}

function tokens(request: SipRequest, header: string): string[] {
  return request.getAll(header).flatMap(splitHeaderValues).map((token) => token.trim().toLowerCase());
}

/** The subscription's resource for a request-contained list: the server's user, then every member URI. */
export function requestListName(serverUser: string, list: readonly RequestListMember[]): string {
  return [serverUser, ...list.map((member) => member.uri)].join(' ');
}

/** The members a resource name written by requestListName holds, or undefined when it is not one of `serverUser`. */
export function parseRequestListName(serverUser: string, name: string): RequestListMember[] | undefined {
  const [user, ...uris] = name.split(' ');
  if (user !== serverUser || uris.length === 0) return undefined;
  return uris.map(memberOf);
}
