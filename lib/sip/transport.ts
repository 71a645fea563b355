/**
 * The transport boundary (RFC 3261 §18). The SIP core never touches a socket: it hands wire text and a Flow to a
 * Transport and receives raw messages with the Flow they arrived on.
 */
export type TransportProtocol = 'UDP' | 'TCP';

/** A path to a peer: on UDP the 5-tuple; on TCP additionally the connection the message used. */
export interface Flow {
  protocol: TransportProtocol;
  remoteHost: string;
  remotePort: number;
  localHost: string;
  localPort: number;
  /** TCP only: the connection a message arrived on (RFC 3261 §18.2.2: responses and in-dialog requests reuse it). */
  connectionId?: number;
}

/** Where to open a new connection when a flow's connection is gone (the peer's Contact or first Route). */
export interface Target { host: string; port: number }

export interface TransportEvents {
  message(raw: Buffer, flow: Flow): void;
}

export interface Transport {
  readonly protocol: TransportProtocol;
  /** The bound address, known after listen(). */
  readonly address: { host: string; port: number };
  listen(events: TransportEvents): Promise<void>;
  /**
   * Sends a message (text, or UTF-8 bytes) on the flow; on TCP, when the connection is gone, connects to `fallback` if
   * given. False when not sent.
   */
  send(flow: Flow, data: string | Buffer, fallback?: Target): boolean;
  close(): Promise<void>;
}

export function describeFlow(flow: Flow): string {
  return `${flow.protocol} ${formatHostPort(flow.remoteHost, flow.remotePort)}`;
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
