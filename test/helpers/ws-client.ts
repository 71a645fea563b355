// A SIP over WebSocket user agent (RFC 7118) for the tests: one SIP message per text frame, a `.invalid` Via and
// Contact host like browser phones use, and everything else from SipClient.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { eventually, SipClient } from './sip-client.js';

const HOST = '127.0.0.1';

export interface WsConnectOptions {
  /** ws (default) or wss; wss trusts any certificate (the tests' own). */
  secure?: boolean;
  path?: string;
  /** Sec-WebSocket-Protocol values offered; default ['sip']. */
  protocols?: string[];
  origin?: string;
  /** Contact transport parameter (clients disagree: JsSIP says ws over wss); default the connection's. */
  contactTransport?: 'ws' | 'wss';
}

/** The HTTP status of a refused upgrade, with its body. */
export interface RefusedUpgrade { status: number; body: string }

export class WsSipClient extends SipClient {
  readonly transport: 'WS' | 'WSS';
  readonly localPort = 0;
  /** Frames that were `\r\n` keep-alive answers. */
  pongs = 0;
  private closed = false;
  closeCode: number | undefined;
  private readonly closedPromise: Promise<void>;
  private readonly host = `${randomBytes(6).toString('hex')}.invalid`;

  private constructor(serverPort: number, readonly socket: WebSocket, secure: boolean, private readonly contactTransport: string) {
    super(serverPort);
    this.transport = secure ? 'WSS' : 'WS';
    socket.on('message', (data) => {
      const text = data.toString();
      if (text === '\r\n') this.pongs++;
      else this.deliver(text, { address: HOST, port: serverPort });
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', (code) => {
        this.closed = true;
        this.closeCode = code;
        this.fail(new Error(`WebSocket closed by the server (${code})`));
        resolve();
      }),
    );
  }

  static connect(serverPort: number, options: WsConnectOptions = {}): Promise<WsSipClient> {
    return new Promise((resolve, reject) => {
      const url = `${options.secure ? 'wss' : 'ws'}://${HOST}:${serverPort}${options.path ?? '/'}`;
      const socket = new WebSocket(url, options.protocols ?? ['sip'], { rejectUnauthorized: false, ...(options.origin ? { origin: options.origin } : {}) });
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
      socket.once('open', () => {
        socket.off('error', reject);
        resolve(new WsSipClient(serverPort, socket, options.secure ?? false, options.contactTransport ?? (options.secure ? 'wss' : 'ws')));
      });
    });
  }

  /** Tries an upgrade that the server should refuse; resolves with its HTTP answer (fails if it is accepted). */
  static refused(serverPort: number, options: WsConnectOptions = {}): Promise<RefusedUpgrade> {
    return new Promise((resolve, reject) => {
      const url = `${options.secure ? 'wss' : 'ws'}://${HOST}:${serverPort}${options.path ?? '/'}`;
      const socket = new WebSocket(url, options.protocols ?? ['sip'], { rejectUnauthorized: false, ...(options.origin ? { origin: options.origin } : {}) });
      socket.once('open', () => {
        socket.terminate();
        reject(new Error('the upgrade was accepted'));
      });
      socket.once('error', () => undefined);
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  protected override sentBy(): string {
    return this.host;
  }

  /** Contact with the transport parameter this client claims. */
  override buildRequest(method: string, options: Parameters<SipClient['buildRequest']>[1] = {}, methodHeaders: Array<[string, string]> = []): string {
    const text = super.buildRequest(method, options, methodHeaders);
    return text.replace(/^(Contact: <[^>]*;transport=)\w+>/m, `$1${this.contactTransport}>`);
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('WebSocket is closed'));
        return;
      }
      this.socket.send(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  protected reply(data: string): Promise<void> {
    return this.send(data);
  }

  waitForClose(timeoutMs = 5000): Promise<void> {
    return eventually(() => this.closed, timeoutMs, 'the server to close the WebSocket');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.socket.close(1000);
    const forced = setTimeout(() => this.socket.terminate(), 1000);
    await this.closedPromise;
    clearTimeout(forced);
  }
}
