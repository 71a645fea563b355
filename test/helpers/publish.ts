// PUBLISH (RFC 3903) from the test clients, and what the server says the resulting presence is.
import type { PresenceServer } from './server.js';
import type { SipClient } from './sip-client.js';
import { expect } from 'chai';
import { parsePidf, type SipMessage } from './wire.js';

export interface PublishOptions {
  /** Request-URI and To user; default 6002. */
  user?: string;
  /** SIP-If-Match: the entity-tag being refreshed, modified or removed. */
  etag?: string;
  /** Expires header value; null leaves the header out. Default 600. */
  expires?: number | null;
  body?: string;
  /** Content-Type of the body; default application/pidf+xml. */
  contentType?: string;
  /** Event header value; null leaves the header out. Default presence. */
  event?: string | null;
  /** Extra or replaced headers, as for SipClient.buildRequest. */
  set?: Record<string, string | string[] | null>;
}

/** Sends a PUBLISH from the presentity itself and resolves with the final response. */
export function publish(client: SipClient, options: PublishOptions = {}): Promise<SipMessage> {
  const { user = '6002', etag, expires = 600, body = '', contentType = 'application/pidf+xml', event = 'presence' } = options;
  const headers: Array<[string, string]> = [];
  if (event !== null) headers.push(['Event', event]);
  if (expires !== null) headers.push(['Expires', String(expires)]);
  if (etag !== undefined) headers.push(['SIP-If-Match', etag]);
  if (body !== '') headers.push(['Content-Type', contentType]);
  return client.request(client.buildRequest('PUBLISH', { user, fromUser: user, body, set: options.set }, headers));
}

/** The entity-tag of a PUBLISH's 200, failing unless it is a 200 granting `expires` seconds with one SIP-ETag token. */
export function entityTagOf(response: SipMessage, expires: number): string {
  expect(response.status, response.raw).to.equal(200);
  expect(response.header('Expires')).to.equal(String(expires));
  const etag = response.header('SIP-ETag');
  expect(etag, response.raw).to.match(/^\S+$/);
  return etag!;
}

/** A PIDF document as Linphone publishes it: RFC 4480 activities and a note in an RFC 4479 person. */
export function rpidBody(activity: string, note?: string, entity = 'sip:6002@127.0.0.1'): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"',
    `    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${entity}">`,
    '  <tuple id="t1"><status><basic>open</basic></status></tuple>',
    `  <dm:person id="p1"><rpid:activities><rpid:${activity}/></rpid:activities>${note === undefined ? '' : `<dm:note>${note}</dm:note>`}</dm:person>`,
    '</presence>',
    '',
  ].join('\n');
}

/** The digium_presence tuple of a NOTIFY for a Digium watcher (undefined for not_set). */
export function digiumState(notify: SipMessage): { type?: string; subtype: string; text: string } | undefined {
  const digium = parsePidf(notify.body).tuples.find((tuple) => tuple.id === 'digium-presence')?.digium;
  return digium && { type: digium.type, subtype: digium.subtype ?? '', text: digium.text };
}

/** The presence state `presencestate hints` shows for `exten`@default: the effective state. */
export async function effectivePresence(server: PresenceServer, exten: string): Promise<string> {
  const { stdout, stderr, code } = await server.cli(['hints']);
  if (code !== 0) throw new Error(`presencestate hints failed: ${stderr}`);
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(`${exten}@default `));
  const state = line === undefined ? undefined : /Presence:(\S+)/.exec(line)?.[1];
  if (state === undefined) throw new Error(`no hint ${exten}@default in:\n${stdout}`);
  return state;
}
