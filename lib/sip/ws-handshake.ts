import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** RFC 7118 §4.1: the WebSocket subprotocol of SIP. */
export const SIP_SUBPROTOCOL = 'sip';

/** Paths browser phones use for the upgrade (`wss://pbx/`, `wss://pbx/ws`, as Asterisk serves it). */
export const WS_PATHS: ReadonlySet<string> = new Set(['/', '/ws']);

/** Why an upgrade request is refused: the HTTP status, its reason phrase, and a sentence for the client and the log. */
export interface HandshakeRefusal { status: number; reason: string; detail: string }

export interface HandshakePolicy {
  /** Allowed `Origin` values (exact, e.g. `https://phone.example.com`); empty allows any. */
  origins: ReadonlySet<string>;
  /** Further paths the upgrade is taken on besides WS_PATHS (none by default). */
  paths?: ReadonlySet<string>;
}

/**
 * Checks a WebSocket upgrade request before the handshake: path, subprotocol (RFC 7118 §4.1: `sip` is required, and
 * Chrome fails the handshake unless it is echoed) and Origin (RFC 6455 §10.2). Undefined when it may go ahead.
 */
export function checkUpgrade(request: IncomingMessage, policy: HandshakePolicy): HandshakeRefusal | undefined {
  const path = (request.url ?? '/').replace(/\?.*$/, '');
  if (!WS_PATHS.has(path) && !policy.paths?.has(path)) {
    return { status: 404, reason: 'Not Found', detail: `no SIP WebSocket service at ${JSON.stringify(path.slice(0, 100))} (use / or /ws)` };
  }
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((token) => token.trim().toLowerCase());
  if (!offered.includes(SIP_SUBPROTOCOL)) {
    return { status: 400, reason: 'Bad Request', detail: "the WebSocket subprotocol 'sip' is required (Sec-WebSocket-Protocol: sip, RFC 7118)" };
  }
  const origin = request.headers.origin;
  if (policy.origins.size > 0 && (origin === undefined || !policy.origins.has(origin))) {
    return { status: 403, reason: 'Forbidden', detail: `origin ${JSON.stringify((origin ?? '(none)').slice(0, 200))} is not allowed` };
  }
  return undefined;
}

/** Answers a refused upgrade with a plain HTTP response and closes the socket. */
export function refuseUpgrade(socket: Duplex, refusal: HandshakeRefusal, headers: Record<string, string> = {}): void {
  const body = `${refusal.detail}\n`;
  let head = `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(head + body);
}
