// A lean SIP watcher over one UDP socket: sends SUBSCRIBEs (retransmitted as RFC 3261 §17.1.2.2 asks), answers
// every NOTIFY with 200 at once, and counts what arrives. Many dialogs share the socket, told apart by Call-ID.
import dgram from 'node:dgram';
import { parseCSeq } from '../../lib/sip/headers.js';
import { SipResponse } from '../../lib/sip/message.js';
import { parseMessage } from '../../lib/sip/parser.js';
import { buildResponse } from '../../lib/sip/response.js';
import { literalFirstLookup } from '../../lib/sip/udp-transport.js';
import { newBranch, newTag, randomHex } from '../../lib/util/random.js';
import { monotonicMs } from './clock.js';
import { answerNotify } from './notify-answer.js';

/** Datagrams of the raw-send baseline start with this; they are counted, never parsed or answered. */
export const RAW_MARKER = 'RAW ';
const RAW_BYTES = Buffer.from(RAW_MARKER, 'latin1');
const T1_MS = 500;
const T2_MS = 4000;
/** Timer F: 64·T1 without a final response ends the transaction. */
const TIMEOUT_MS = 64 * T1_MS;
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export interface Endpoint {
  host: string;
  port: number;
}

export type BenchEvent = 'presence' | 'dialog';

const ACCEPT: Readonly<Record<BenchEvent, string>> = { presence: 'application/pidf+xml', dialog: 'application/dialog-info+xml' };

export interface UserAgentEvents {
  /** A NOTIFY was answered; `repeat` when its CSeq was already seen in that dialog (a retransmission). */
  notify(bytes: number, repeat: boolean, answeredAt: number): void;
  raw(bytes: number): void;
}

export interface SubscribeOutcome {
  /** Final status, or 408 when Timer F fired. */
  status: number;
  /** From the first transmission to the final response. */
  ms: number;
  retransmissions: number;
}

interface Pending {
  resolve(outcome: SubscribeOutcome): void;
  request: string;
  sentAt: number;
  retransmissions: number;
  interval: number;
  timer: NodeJS.Timeout;
}

export class SipUserAgent {
  private readonly pending = new Map<string, Pending>();
  /** Call-ID → highest NOTIFY CSeq answered. */
  private readonly notifyCseqs = new Map<string, number>();
  private readonly callIdPrefix = randomHex(6);
  private sequence = 0;

  private constructor(private readonly socket: dgram.Socket, private readonly events: UserAgentEvents) {
    socket.on('message', (data, rinfo) => this.receive(data, rinfo));
  }

  static open(events: UserAgentEvents, host = '127.0.0.1'): Promise<SipUserAgent> {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES, lookup: literalFirstLookup });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve(new SipUserAgent(socket, events));
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Subscribes to presence of `exten` at `server` with a new dialog. */
  /** A SUBSCRIBE to `exten` for the presence (PIDF) or dialog (dialog-info) event package. */
  subscribe(server: Endpoint, exten: string, expires: number, event: BenchEvent = 'presence'): Promise<SubscribeOutcome> {
    const { address, port } = this.socket.address();
    const number = ++this.sequence;
    const callId = `${this.callIdPrefix}-${number}`;
    const user = `w${port}-${number}`;
    const request =
      `SUBSCRIBE sip:${exten}@${server.host}:${server.port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${address}:${port};branch=${newBranch()};rport\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: <sip:${user}@${address}:${port}>;tag=${newTag()}\r\n` +
      `To: <sip:${exten}@${server.host}:${server.port}>\r\n` +
      `Call-ID: ${callId}\r\n` +
      'CSeq: 1 SUBSCRIBE\r\n' +
      `Contact: <sip:${user}@${address}:${port}>\r\n` +
      `Event: ${event}\r\n` +
      `Accept: ${ACCEPT[event]}\r\n` +
      `Expires: ${expires}\r\n` +
      'User-Agent: presenced-bench\r\n' +
      'Content-Length: 0\r\n\r\n';
    return new Promise((resolve) => {
      const entry: Pending = {
        resolve, request, sentAt: monotonicMs(), retransmissions: 0, interval: T1_MS,
        timer: setTimeout(() => this.retransmit(callId, server), T1_MS),
      };
      this.pending.set(callId, entry);
      this.socket.send(request, server.port, server.host);
    });
  }

  close(): Promise<void> {
    for (const [callId, entry] of this.pending) this.finish(callId, entry, 408);
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private retransmit(callId: string, server: Endpoint): void {
    const entry = this.pending.get(callId);
    if (!entry) return;
    if (monotonicMs() - entry.sentAt >= TIMEOUT_MS) {
      this.finish(callId, entry, 408);
      return;
    }
    entry.retransmissions++;
    entry.interval = Math.min(entry.interval * 2, T2_MS);
    entry.timer = setTimeout(() => this.retransmit(callId, server), entry.interval);
    this.socket.send(entry.request, server.port, server.host);
  }

  private finish(callId: string, entry: Pending, status: number): void {
    clearTimeout(entry.timer);
    this.pending.delete(callId);
    entry.resolve({ status, ms: monotonicMs() - entry.sentAt, retransmissions: entry.retransmissions });
  }

  private receive(data: Buffer, rinfo: dgram.RemoteInfo): void {
    if (data.length >= RAW_BYTES.length && data.compare(RAW_BYTES, 0, RAW_BYTES.length, 0, RAW_BYTES.length) === 0) {
      this.events.raw(data.length);
      return;
    }
    // The common case, a NOTIFY, is answered without the full parser (notify-answer.ts).
    const answer = answerNotify(data);
    if (answer !== undefined) {
      this.socket.send(answer.response, rinfo.port, rinfo.address);
      this.countNotify(data.length, answer.callId, Number.isNaN(answer.cseq) ? 0 : answer.cseq);
      return;
    }
    let message;
    try {
      message = parseMessage(data);
    } catch {
      return;
    }
    if (message instanceof SipResponse) {
      const callId = message.get('call-id') ?? '';
      const entry = this.pending.get(callId);
      if (entry && message.status >= 200) this.finish(callId, entry, message.status);
      return;
    }
    if (message.method !== 'NOTIFY') {
      this.socket.send(buildResponse(message, 405, 'Method Not Allowed'), rinfo.port, rinfo.address);
      return;
    }
    this.socket.send(buildResponse(message, 200, 'OK'), rinfo.port, rinfo.address);
    this.countNotify(data.length, message.get('call-id') ?? '', parseCSeq(message.get('cseq') ?? '')?.seq ?? 0);
  }

  /** Called right after the 200 left: a CSeq not above the dialog's highest so far is a retransmission. */
  private countNotify(bytes: number, callId: string, seq: number): void {
    const answeredAt = monotonicMs();
    const seen = this.notifyCseqs.get(callId);
    const repeat = seen !== undefined && seq <= seen;
    if (!repeat) this.notifyCseqs.set(callId, seq);
    this.events.notify(bytes, repeat, answeredAt);
  }
}
