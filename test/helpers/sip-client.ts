// Minimal SIP user agents (UDP and TCP) that talk to the server over real sockets: they build requests from
// templates, queue everything that arrives, and answer NOTIFYs with 200 unless told not to.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import DgramAsPromised from 'dgram-as-promised';
import type { SocketAsPromised } from 'dgram-as-promised';
import { parseSipMessage, SipMessage, StreamFramer } from './wire.js';
import type { RemoteAddress } from './wire.js';

export type Transport = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';
export type MessagePredicate = (message: SipMessage) => boolean;

const HOST = '127.0.0.1';
const DEFAULT_WAIT_MS = 5000;
/** RFC 3261 §17.1.1.1 timer values. */
const T1_MS = 500;
const T2_MS = 4000;

export function newTag(): string {
  return randomBytes(5).toString('hex');
}

export function newCallId(): string {
  return `${randomBytes(8).toString('hex')}@${HOST}`;
}

/** RFC 3261 §8.1.1.7: branches start with the magic cookie. */
export function newBranch(): string {
  return `z9hG4bK${randomBytes(8).toString('hex')}`;
}

export interface RequestOptions {
  /** Request-URI and To user; default 6002. */
  user?: string;
  /** Full Request-URI; default sip:<user>@127.0.0.1:<server port>. */
  uri?: string;
  fromUser?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  cseq?: number;
  branch?: string;
  /** Ask for RFC 3581 symmetric response routing; default true. */
  rport?: boolean;
  /** Replace (string, or several rows), drop (null) or add headers, matched case-insensitively. */
  set?: Record<string, string | string[] | null>;
  body?: string;
}

export interface SubscribeOptions extends RequestOptions {
  /** Expires header value; null leaves the header out. Default 600. */
  expires?: number | null;
  userAgent?: string;
}

export interface SubscribeResult {
  request: string;
  response: SipMessage;
  /** Present when the SUBSCRIBE was accepted (2xx with a To tag). */
  dialog?: WatcherDialog;
}

/** How a client answers one NOTIFY; see {@link SipClient.notifyAnswer}. */
export interface NotifyAnswer {
  status: number;
  reason: string;
  /** Extra header rows, e.g. `Retry-After: 1`. */
  headers?: string[];
  /** Answer this long after the NOTIFY arrived (a slow phone). */
  delayMs?: number;
}

/** A request as it arrived, retransmissions included. */
export interface ArrivedRequest {
  message: SipMessage;
  /** Date.now() at arrival, before parsing. */
  at: number;
}

interface Waiter {
  predicate: MessagePredicate;
  resolve: (message: SipMessage) => void;
  reject: (error: Error) => void;
}

/** A SIP endpoint talking to one server over one transport. */
export abstract class SipClient {
  abstract readonly transport: Transport;
  abstract readonly localPort: number;
  /** Answer every incoming NOTIFY with 200 OK (RFC 6665 §4.1.3). */
  autoAnswerNotify = true;
  /** While autoAnswerNotify is on: how to answer each NOTIFY (retransmissions too); undefined leaves it unanswered. */
  notifyAnswer: (notify: SipMessage) => NotifyAnswer | undefined = () => ({ status: 200, reason: 'OK' });
  /** Every request that arrived, retransmissions included, with its arrival time. */
  readonly requests: ArrivedRequest[] = [];
  /** Every parsed message, in arrival order, for diagnostics. */
  readonly received: SipMessage[] = [];
  /** Requests that arrived again with a branch, Call-ID and CSeq already seen (transaction retransmissions). */
  retransmissions = 0;
  private readonly queue: SipMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly seenRequests = new Set<string>();
  private failure: Error | undefined;

  protected constructor(readonly serverPort: number) {}

  abstract send(data: string | Buffer): Promise<void>;
  abstract close(): Promise<void>;
  /** Sends a response back to where the request came from. */
  protected abstract reply(data: string, to: RemoteAddress): Promise<void>;

  /** Resolves with the first queued or future message matching `predicate`, removing it from the queue. */
  waitFor(predicate: MessagePredicate, timeoutMs = DEFAULT_WAIT_MS, what = 'a matching message'): Promise<SipMessage> {
    const index = this.queue.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.queue.splice(index, 1)[0]);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.transport} client: no ${what} within ${timeoutMs} ms; received:\n${this.summary()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Fails if a message matching `predicate` is queued or arrives within `withinMs`. */
  async expectNone(predicate: MessagePredicate, withinMs = 700, what = 'message'): Promise<void> {
    const unexpected = await this.waitFor(predicate, withinMs).catch(() => undefined);
    if (this.failure) throw this.failure;
    if (unexpected) throw new Error(`unexpected ${what} from the server:\n${unexpected.raw}`);
  }

  /** Sends a request and resolves with its final response (RFC 3261 §17.1.3 matching: top Via branch, CSeq). */
  async request(data: string | Buffer, timeoutMs = DEFAULT_WAIT_MS): Promise<SipMessage> {
    // A binary body (Content-Encoding: deflate) travels as bytes; the head is matched as text.
    const text = typeof data === 'string' ? data : data.toString('latin1');
    const matches = responseMatcher(text);
    await this.send(data);
    return this.waitFor(
      (message) => !message.isRequest && (message.status ?? 0) >= 200 && matches(message),
      timeoutMs,
      `final response to ${text.slice(0, text.indexOf('\r\n'))}`,
    );
  }

  /** Sends a response to `request` copying Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2). */
  async respond(request: SipMessage, status: number, reason: string, headers: string[] = []): Promise<void> {
    const copied = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].flatMap((name) =>
      request.headerRows(name).map((value) => `${name}: ${value}`),
    );
    await this.reply([`SIP/2.0 ${status} ${reason}`, ...copied, ...headers, 'Content-Length: 0', '', ''].join('\r\n'), request.source);
  }

  /** A request from this client to the server, built from defaults that `options` can override. */
  buildRequest(method: string, options: RequestOptions = {}, methodHeaders: Array<[string, string]> = []): string {
    const user = options.user ?? '6002';
    const fromUser = options.fromUser ?? 'watcher';
    const transportParam = this.transport === 'UDP' ? '' : `;transport=${this.transport.toLowerCase()}`;
    const sentBy = this.sentBy();
    const headers: Array<[string, string | string[] | null]> = [
      ['Via', `SIP/2.0/${this.transport} ${sentBy};branch=${options.branch ?? newBranch()}${options.rport === false ? '' : ';rport'}`],
      ['Max-Forwards', '70'],
      ['From', `<sip:${fromUser}@${HOST}>;tag=${options.fromTag ?? newTag()}`],
      ['To', `<sip:${user}@${HOST}:${this.serverPort}>${options.toTag ? `;tag=${options.toTag}` : ''}`],
      ['Call-ID', options.callId ?? newCallId()],
      ['CSeq', `${options.cseq ?? 1} ${method}`],
      ['Contact', `<sip:${fromUser}@${sentBy}${transportParam}>`],
      ...methodHeaders,
      ['User-Agent', 'presenced-itest'],
    ];
    for (const [name, value] of Object.entries(options.set ?? {})) {
      const existing = headers.find(([header]) => header.toLowerCase() === name.toLowerCase());
      if (existing) existing[1] = value;
      else headers.push([name, value]);
    }
    const body = options.body ?? '';
    if (!headers.some(([name]) => name.toLowerCase() === 'content-length')) {
      headers.push(['Content-Length', String(Buffer.byteLength(body))]);
    }
    const lines = headers.flatMap(([name, value]) =>
      value === null ? [] : (Array.isArray(value) ? value : [value]).map((row) => `${name}: ${row}`),
    );
    const uri = options.uri ?? `sip:${user}@${HOST}:${this.serverPort}`;
    return [`${method} ${uri} SIP/2.0`, ...lines, '', body].join('\r\n');
  }

  /** Our Via sent-by and Contact host:port; a WebSocket client has only a `.invalid` name (RFC 7118 §5). */
  protected sentBy(): string {
    return `${HOST}:${this.localPort}`;
  }

  /** RFC 3856 SUBSCRIBE for the presence event package. */
  buildSubscribe(options: SubscribeOptions = {}): string {
    const expires = options.expires === undefined ? 600 : options.expires;
    const methodHeaders: Array<[string, string]> = [
      ['Event', 'presence'],
      ['Accept', 'application/pidf+xml'],
      ...(expires === null ? [] : [['Expires', String(expires)] as [string, string]]),
    ];
    const set = options.userAgent === undefined ? options.set : { 'User-Agent': options.userAgent, ...options.set };
    return this.buildRequest('SUBSCRIBE', { ...options, set }, methodHeaders);
  }

  /** Sends a new SUBSCRIBE and returns its final response, plus the dialog when it was accepted. */
  async subscribe(options: SubscribeOptions = {}): Promise<SubscribeResult> {
    const callId = options.callId ?? newCallId();
    const fromTag = options.fromTag ?? newTag();
    const cseq = options.cseq ?? 1;
    const request = this.buildSubscribe({ ...options, callId, fromTag, cseq });
    const response = await this.request(request);
    const status = response.status ?? 0;
    const dialog =
      status >= 200 && status < 300 && response.toTag
        ? new WatcherDialog(this, { ...options, callId, fromTag, toTag: response.toTag, cseq })
        : undefined;
    return { request, response, dialog };
  }

  /** subscribe(), failing unless the SUBSCRIBE was accepted: the dialog it created. */
  async subscribeDialog(options: SubscribeOptions = {}): Promise<WatcherDialog> {
    const { response, dialog } = await this.subscribe(options);
    if (!dialog) throw new Error(`SUBSCRIBE not accepted: ${response.status} ${response.reason}`);
    return dialog;
  }

  /** Hands a raw message to the queue; called by the transports. */
  protected deliver(raw: string, source: RemoteAddress): void {
    const at = Date.now();
    let message: SipMessage;
    try {
      message = parseSipMessage(raw, source);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (message.isRequest) {
      this.requests.push({ message, at });
      const key = `${message.header('Via')}|${message.callId}|${message.header('CSeq')}`;
      const retransmitted = this.seenRequests.has(key);
      this.seenRequests.add(key);
      if (this.autoAnswerNotify && message.method === 'NOTIFY') this.answerNotify(message);
      if (retransmitted) {
        this.retransmissions++;
        return;
      }
    }
    this.received.push(message);
    for (const waiter of this.waiters) {
      if (waiter.predicate(message)) {
        this.waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    this.queue.push(message);
  }

  private answerNotify(notify: SipMessage): void {
    const answer = this.notifyAnswer(notify);
    if (answer === undefined) return;
    const send = (): void => {
      this.respond(notify, answer.status, answer.reason, answer.headers).catch((error: Error) => this.fail(error));
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  }

  /** Makes every pending and future wait fail with `error`. */
  protected fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private summary(): string {
    const lines = this.received.map((message) => `  ${message.raw.slice(0, message.raw.indexOf('\r\n'))} (${message.header('CSeq')})`);
    return lines.length > 0 ? lines.join('\n') : '  (nothing)';
  }
}

/** The watcher's side of one subscription dialog (RFC 6665 §4.1). */
export class WatcherDialog {
  readonly callId: string;
  readonly fromTag: string;
  /** The notifier's tag, from the To of the 200 response. */
  readonly toTag: string;
  cseq: number;

  constructor(
    readonly client: SipClient,
    private readonly options: SubscribeOptions & { callId: string; fromTag: string; toTag: string; cseq: number },
  ) {
    this.callId = options.callId;
    this.fromTag = options.fromTag;
    this.toTag = options.toTag;
    this.cseq = options.cseq;
  }

  /**
   * Next NOTIFY of this dialog (matched on Call-ID and our tag, so tag mistakes show up in assertions); `over` is
   * another connection of ours when the server had to reach us elsewhere (a new TCP connection to our Contact).
   */
  nextNotify(timeoutMs = DEFAULT_WAIT_MS, over: SipClient = this.client): Promise<SipMessage> {
    return over.waitFor(this.isNotify, timeoutMs, `NOTIFY for dialog ${this.callId}`);
  }

  /** Fails if this dialog receives a NOTIFY within `withinMs`. */
  expectNoNotify(withinMs = 700): Promise<void> {
    return this.client.expectNone(this.isNotify, withinMs, `NOTIFY for dialog ${this.callId}`);
  }

  /** In-dialog SUBSCRIBE (refresh, or unsubscribe with expires 0) with the next CSeq. */
  refresh(options: SubscribeOptions = {}): Promise<SipMessage> {
    this.cseq += 1;
    return this.client.request(
      this.client.buildSubscribe({
        ...this.options,
        ...options,
        callId: this.callId,
        fromTag: this.fromTag,
        toTag: this.toTag,
        cseq: this.cseq,
      }),
    );
  }

  private readonly isNotify: MessagePredicate = (message) =>
    message.isRequest && message.method === 'NOTIFY' && message.callId === this.callId && message.toTag === this.fromTag;
}

/** Matches responses to `request` on the top Via branch, and on Call-ID and CSeq when the request has them. */
function responseMatcher(request: string): MessagePredicate {
  const branch = /^(?:via|v)[ \t]*:[^\r\n]*;branch=([^;,\s]+)/im.exec(request)?.[1];
  const callId = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(request)?.[1];
  const cseq = /^cseq[ \t]*:[ \t]*(\d+)[ \t]+(\S+)/im.exec(request);
  return (message) =>
    (branch === undefined || (message.header('Via') ?? '').includes(`branch=${branch}`)) &&
    (callId === undefined || message.callId === undefined || message.callId === callId) &&
    (cseq === null || message.cseq === undefined || (message.cseq.seq === Number(cseq[1]) && message.cseq.method === cseq[2]));
}

export class UdpSipClient extends SipClient {
  readonly transport = 'UDP';

  private constructor(
    serverPort: number,
    private readonly socket: SocketAsPromised,
    readonly localPort: number,
  ) {
    super(serverPort);
    socket.socket.on('message', (data, rinfo) => this.deliver(data.toString('utf8'), rinfo));
  }

  /** `localHost`: another loopback address (127.0.0.2 …) makes the client another source for the server. */
  static async open(serverPort: number, localHost = HOST): Promise<UdpSipClient> {
    const socket = DgramAsPromised.createSocket('udp4');
    const { port } = await socket.bind(0, localHost);
    return new UdpSipClient(serverPort, socket, port);
  }

  async send(data: string | Buffer): Promise<void> {
    await this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, this.serverPort, HOST);
  }

  /**
   * A request as a real UDP client sends it: RFC 3261 §17.1.2.2 retransmits it at T1, 2·T1, … capped at T2 until a
   * final response or Timer F (64·T1). A datagram the kernel drops while the server's buffer is full is then not the
   * end of the transaction.
   */
  async requestRetransmitting(text: string, timeoutMs = 64 * T1_MS): Promise<{ response: SipMessage; transmissions: number }> {
    let transmissions = 1;
    let interval = T1_MS;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const retransmit = (): void => {
      if (settled) return;
      timer = setTimeout(() => {
        transmissions++;
        interval = Math.min(2 * interval, T2_MS);
        this.send(text).then(retransmit, () => undefined);
      }, interval);
    };
    const answered = this.request(text, timeoutMs);
    retransmit();
    try {
      return { response: await answered, transmissions };
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  protected async reply(data: string, to: RemoteAddress): Promise<void> {
    await this.socket.send(Buffer.from(data), to.port, to.address);
  }

  async close(): Promise<void> {
    await this.socket.close();
  }
}

export class TcpSipClient extends SipClient {
  readonly transport: 'TCP' | 'TLS';
  readonly localPort: number;
  /** CRLF keep-alive responses received (RFC 5626 §4.4.1). */
  pongs = 0;
  private closed = false;
  private readonly closedPromise: Promise<void>;
  private readonly remote: RemoteAddress;

  private constructor(
    serverPort: number,
    private readonly socket: net.Socket,
  ) {
    super(serverPort);
    this.transport = socket instanceof tls.TLSSocket ? 'TLS' : 'TCP';
    this.localPort = socket.localPort ?? 0;
    this.remote = { address: HOST, port: serverPort };
    const framer = new StreamFramer(
      (raw) => this.deliver(raw, this.remote),
      () => this.pongs++,
    );
    socket.on('data', (chunk) => framer.push(chunk));
    // A server that drops the connection on purpose may reset it while we write; that is reported as a close.
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.fail(new Error('TCP connection closed by the server'));
        resolve();
      }),
    );
  }

  /** Wraps a connection the server opened to us (see {@link TcpSipListener}). */
  static accepted(serverPort: number, socket: net.Socket): TcpSipClient {
    socket.setNoDelay(true);
    return new TcpSipClient(serverPort, socket);
  }

  static connect(serverPort: number, localAddress = HOST): Promise<TcpSipClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: HOST, port: serverPort, localAddress });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new TcpSipClient(serverPort, socket));
      });
    });
  }

  /** A SIP over TLS client (RFC 3261 §26.3.1); `options` may name the host (SNI) and what to trust. */
  static connectTls(serverPort: number, options: tls.ConnectionOptions = {}): Promise<TcpSipClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: HOST, port: serverPort, rejectUnauthorized: false, ...options });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(new TcpSipClient(serverPort, socket));
      });
    });
  }

  /** The certificate the server presented (TLS only). */
  get peerCertificate(): tls.PeerCertificate | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket.getPeerCertificate() : undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves once at least `count` keep-alive pongs have arrived. */
  waitForPongs(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return eventually(() => this.pongs >= count || this.closed, timeoutMs, 'CRLF keep-alive pong').then(() => {
      if (this.pongs < count) throw new Error('TCP connection closed while waiting for a keep-alive pong');
    });
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('TCP connection is closed'));
        return;
      }
      this.socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  protected reply(data: string): Promise<void> {
    return this.send(data);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.socket.end();
    const forced = setTimeout(() => this.socket.destroy(), 1000);
    await this.closedPromise;
    clearTimeout(forced);
  }
}

/**
 * A watcher's own TCP listener, the target of its Contact: when the server has no connection to the watcher it
 * connects here (RFC 3261 §18.1.1); each accepted connection becomes a client that queues and answers like any other.
 */
export class TcpSipListener {
  readonly connections: TcpSipClient[] = [];

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    serverPort: number,
  ) {
    server.on('connection', (socket) => this.connections.push(TcpSipClient.accepted(serverPort, socket)));
  }

  static async open(serverPort: number, host = HOST): Promise<TcpSipListener> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
    return new TcpSipListener(server, (server.address() as net.AddressInfo).port, serverPort);
  }

  /** The `index`-th connection accepted (0-based), waiting for it if need be. */
  async connection(index = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<TcpSipClient> {
    await eventually(() => this.connections.length > index, timeoutMs, `TCP connection #${index + 1} to port ${this.port}`);
    return this.connections[index];
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.close()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Opens a client of the given transport to a server's matching port. */
export function openClient(transport: Transport, server: { udpPort: number; tcpPort: number }): Promise<SipClient> {
  return transport === 'UDP' ? UdpSipClient.open(server.udpPort) : TcpSipClient.connect(server.tcpPort);
}

/** Polls `condition` until it holds; for states that are observable but not announced by a message. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
