/**
 * The transport boundary (RFC 3261 §18). The SIP core never touches a socket: it hands wire text and a Flow to a
 * Transport and receives raw messages with the Flow they arrived on. What a transport is — its Via token, whether it
 * is reliable, whether we may connect out on it — is declared once, here, and read from the flow by everyone else.
 */

/** RFC 3261 §20.42 / RFC 7118 §5: the transport token of a Via header. */
export type ViaTransport = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

export interface TransportKind {
  readonly via: ViaTransport;
  /**
   * Reliable and connection-oriented (§18.2.2, §17.1.2.2): no retransmissions, responses and in-dialog requests go
   * back on the connection the request came in on.
   */
  readonly reliable: boolean;
  /**
   * Whether the server may open a connection to a peer's Contact or Route when the flow's connection is gone.
   * Never on WebSocket (RFC 7118 §5: the client's Contact host is a `.invalid` name; only its socket reaches it), nor
   * on TLS (phones hold no certificate to check, so a new connection could reach anyone): such a subscription lives
   * on its connection.
   */
  readonly dialsOut: boolean;
  /** Carried over TLS (RFC 3261 §26.2.2): the only transports a `sips:` dialog may use. */
  readonly secure: boolean;
  /** The URI `transport` parameter (RFC 3261 §19.1.1, RFC 7118 §7) in our Contact. */
  readonly uriParam: string;
  /** The port a URI without one means (RFC 3261 §19.1.2; 5061 for TLS, RFC 7118 leaves WS to the URI). */
  readonly defaultPort: number;
}

export const UDP: TransportKind = { via: 'UDP', reliable: false, dialsOut: true, secure: false, uriParam: 'udp', defaultPort: 5060 };
export const TCP: TransportKind = { via: 'TCP', reliable: true, dialsOut: true, secure: false, uriParam: 'tcp', defaultPort: 5060 };
export const TLS: TransportKind = { via: 'TLS', reliable: true, dialsOut: false, secure: true, uriParam: 'tls', defaultPort: 5061 };
export const WS: TransportKind = { via: 'WS', reliable: true, dialsOut: false, secure: false, uriParam: 'ws', defaultPort: 80 };
export const WSS: TransportKind = { via: 'WSS', reliable: true, dialsOut: false, secure: true, uriParam: 'wss', defaultPort: 443 };

const KINDS = new Map<string, TransportKind>([UDP, TCP, TLS, WS, WSS].map((kind) => [kind.via, kind]));

/** The kind for a Via token (any case), or undefined. */
export function transportKind(via: string): TransportKind | undefined {
  return KINDS.get(via.toUpperCase());
}

/**
 * One connection of a reliable transport, as the layers above see it: something subscriptions pin (a pinned
 * connection is never closed for idleness) and that tells when it is gone.
 */
export interface Connection {
  readonly id: number;
  /** Live subscriptions whose NOTIFYs travel over this connection (see pinFlow). */
  pins: number;
  readonly closed: boolean;
}

/** A path to a peer: on UDP the 5-tuple; on a reliable transport additionally the connection the message used. */
export interface Flow {
  kind: TransportKind;
  remoteHost: string;
  remotePort: number;
  localHost: string;
  localPort: number;
  /** Reliable transports only: the connection a message arrived on (§18.2.2: responses and in-dialog requests reuse it). */
  connection?: Connection;
  /** Subscriptions holding this (shared) flow; counted into its connection's pins, and moved with it. */
  pins?: number;
}

/** A subscription starts using the flow: its connection stays open while any subscription uses it. */
export function pinFlow(flow: Flow): void {
  flow.pins = (flow.pins ?? 0) + 1;
  if (flow.connection) flow.connection.pins++;
}

export function unpinFlow(flow: Flow): void {
  flow.pins = (flow.pins ?? 1) - 1;
  if (flow.connection) flow.connection.pins--;
}

/** Moves a flow (and the pins of the subscriptions holding it) onto a new connection, when the old one is gone. */
export function rebindFlow(flow: Flow, connection: Connection, remoteHost: string, remotePort: number): void {
  if (flow.connection) flow.connection.pins -= flow.pins ?? 0;
  connection.pins += flow.pins ?? 0;
  flow.connection = connection;
  flow.remoteHost = remoteHost;
  flow.remotePort = remotePort;
}

/** Where to open a new connection when a flow's connection is gone (the peer's Contact or first Route). */
export interface Target { host: string; port: number }

/** What the address gate says about a source: serve it, answer its requests 403, or drop everything it sends. */
export type Admission = 'accept' | 'refuse' | 'drop';

export interface TransportEvents {
  /** `declaredBytes`: a stream message over the size limit arrives as its head alone, with the size it declared. */
  message(raw: Buffer, flow: Flow, declaredBytes?: number): void;
  /** Asked when a reliable transport accepts a connection: anything but `accept` closes it at once. */
  admit?(remoteHost: string): Admission;
  /** A connection of a reliable transport closed (either side, or dropped for a limit). */
  closed?(connection: Connection): void;
}

export interface Transport {
  readonly kind: TransportKind;
  /** The bound address, known after listen(). */
  readonly address: { host: string; port: number };
  listen(events: TransportEvents): Promise<void>;
  /**
   * Sends a message (text, or UTF-8 bytes) on the flow; on a transport that dials out, when the connection is gone,
   * connects to `fallback` if given. False when not sent.
   */
  send(flow: Flow, data: string | Buffer, fallback?: Target): boolean;
  close(): Promise<void>;
}

/** Our Via sent-by line for a request on this flow (RFC 3261 §18.1.1: the transport that carries it). */
export function viaHeader(flow: Flow, sentBy: string, branch: string): string {
  return `Via: SIP/2.0/${flow.kind.via} ${sentBy};branch=${branch};rport\r\n`;
}

/**
 * Our Contact URI for dialogs on this flow: reachable over the same transport (RFC 3261 §8.1.1.8, RFC 7118 §5); a
 * SIPS URI when the dialog is one (§12.1.1), which means TLS without saying so (RFC 5630 deprecates transport=tls).
 */
export function contactUri(kind: TransportKind, hostPort: string, sips = false): string {
  if (!sips) return `sip:${hostPort};transport=${kind.uriParam}`;
  return kind === TLS ? `sips:${hostPort}` : `sips:${hostPort};transport=${kind.uriParam}`;
}

export function describeFlow(flow: Flow): string {
  return `${flow.kind.via} ${formatHostPort(flow.remoteHost, flow.remotePort)}`;
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "HOST:PORT", "[v6]:PORT" or "off" → address, or undefined for off. */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  if (text === 'off') return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`invalid listen address '${text}' (expected HOST:PORT or off)`);
  return { host: (match[1] ?? match[2])!, port };
}
