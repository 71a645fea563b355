// A UDP relay between a scanner and presenced: it records every response the scanner is sent, so a test can say
// exactly what the scanner learnt, and may rewrite responses on their way (see withoutSha256Challenge).
import dgram from 'node:dgram';
import { HOST } from './ports.js';

export interface RelayedResponse {
  status: number;
  /** The user of the To header: which extension the request asked about. */
  toUser: string;
  raw: string;
}

export class UdpRelay {
  readonly responses: RelayedResponse[] = [];
  /** Requests that carried an Authorization header (digest answers). */
  answers = 0;
  private client: dgram.RemoteInfo | undefined;

  private constructor(
    private readonly front: dgram.Socket,
    private readonly back: dgram.Socket,
    serverPort: number,
    rewrite: (response: string) => string,
  ) {
    front.on('message', (data, from) => {
      this.client = from;
      if (/^authorization[ \t]*:/im.test(data.toString('latin1'))) this.answers++;
      back.send(data, serverPort, HOST);
    });
    back.on('message', (data) => {
      const raw = rewrite(data.toString('latin1'));
      const status = /^SIP\/2\.0 (\d{3}) /.exec(raw);
      if (status) this.responses.push({ status: Number(status[1]), toUser: /^(?:to|t)[ \t]*:[^\r\n]*?sips?:([^@;>\r\n]+)@/im.exec(raw)?.[1] ?? '', raw });
      if (this.client) front.send(Buffer.from(raw, 'latin1'), this.client.port, this.client.address);
    });
  }

  /** Listens on `port` (127.0.0.1) and relays to presenced's UDP `serverPort`. */
  static async start(port: number, serverPort: number, rewrite: (response: string) => string = (response) => response): Promise<UdpRelay> {
    const front = dgram.createSocket('udp4');
    const back = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => front.once('error', reject).bind(port, HOST, () => resolve()));
    await new Promise<void>((resolve, reject) => back.once('error', reject).bind(0, HOST, () => resolve()));
    return new UdpRelay(front, back, serverPort, rewrite);
  }

  statuses(): number[] {
    return this.responses.map(({ status }) => status);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
    await new Promise<void>((resolve) => this.back.close(() => resolve()));
  }
}

/**
 * svcrack 0.3 takes the algorithm of the first challenge and only computes MD5: presenced's SHA-256 challenge comes
 * first, so svcrack fails before its first guess. Dropping that challenge makes it answer the MD5 one, so that the
 * tests see it really guess.
 */
export function withoutSha256Challenge(response: string): string {
  return response.replace(/^WWW-Authenticate:[^\r\n]*algorithm=SHA-256[^\r\n]*\r\n/gim, '');
}
