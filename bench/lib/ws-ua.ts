// A SIP over WebSocket user agent for the bench (RFC 7118): one SIP message per text frame, SUBSCRIBEs out, the
// responses matched by Call-ID and CSeq, every NOTIFY answered 200 at once and reported.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export interface WsResponse { status: number; toTag: string | undefined }

/** A NOTIFY as the bench sees it: its dialog and whether it ended the subscription. */
export interface WsNotify { callId: string; terminated: boolean }

const HEADER = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi');

export class WsUa {
  private readonly pending = new Map<string, (response: WsResponse) => void>();
  /** Called for every NOTIFY, after its 200 went out. */
  onNotify: (notify: WsNotify) => void = () => undefined;
  private readonly host = `${randomBytes(5).toString('hex')}.invalid`;

  private constructor(private readonly socket: WebSocket, private readonly uri: string) {
    socket.on('message', (data) => this.receive(data.toString()));
    socket.on('error', () => undefined);
  }

  static connect(url: string, domain: string): Promise<WsUa> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, ['sip']);
      socket.once('error', reject);
      socket.once('open', () => resolve(new WsUa(socket, domain)));
    });
  }

  /** SUBSCRIBE to `exten`; in-dialog when `toTag` is given. Resolves with the final response. */
  subscribe(exten: string, callId: string, cseq: number, expires: number, toTag?: string): Promise<WsResponse> {
    const request = [
      `SUBSCRIBE sip:${exten}@${this.uri} SIP/2.0`,
      `Via: SIP/2.0/WS ${this.host};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
      'Max-Forwards: 70',
      `From: <sip:bench@${this.uri}>;tag=${callId}`,
      `To: <sip:${exten}@${this.uri}>${toTag ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} SUBSCRIBE`,
      `Contact: <sip:bench@${this.host};transport=ws>`,
      'Event: presence',
      'Accept: application/pidf+xml',
      `Expires: ${expires}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    return new Promise((resolve) => {
      this.pending.set(`${callId} ${cseq}`, resolve);
      this.socket.send(request);
    });
  }

  close(): void {
    this.socket.terminate();
  }

  private receive(text: string): void {
    const callId = HEADER('Call-ID').exec(text)?.[1]?.trim() ?? '';
    if (text.startsWith('SIP/2.0 ')) {
      const cseq = /^CSeq:[ \t]*(\d+)/mi.exec(text)?.[1];
      const resolve = this.pending.get(`${callId} ${cseq}`);
      const status = Number(text.slice(8, 11));
      if (!resolve || status < 200) return;
      this.pending.delete(`${callId} ${cseq}`);
      resolve({ status, toTag: /^To:.*;tag=([^;\s]+)/mi.exec(text)?.[1] });
      return;
    }
    if (!text.startsWith('NOTIFY ')) return;
    const copied = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((name) => `${name}: ${HEADER(name).exec(text)?.[1]?.trim() ?? ''}`);
    this.socket.send(['SIP/2.0 200 OK', ...copied, 'Content-Length: 0', '', ''].join('\r\n'));
    this.onNotify({ callId, terminated: /^Subscription-State:[ \t]*terminated/mi.test(text) });
  }
}
