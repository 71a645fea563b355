// A bare AMI connection over a raw socket, for what a client library would never send.
import net from 'node:net';
import { expect } from 'chai';
import { eventually } from './sip-client.js';

const WAIT_MS = 5000;

/** One block of the AMI stream: its raw text and its `Key: Value` lines. */
export class Block {
  readonly fields: Array<[string, string]>;

  constructor(readonly raw: string) {
    this.fields = raw.split('\r\n').map((line) => {
      const colon = line.indexOf(': ');
      return colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 2)];
    });
  }

  get(name: string): string | undefined {
    return this.fields.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  }
}

/** A bare AMI connection: writes what it is told, queues the blocks that arrive. */
export class RawAmi {
  banner = '';
  private buffer = '';
  private readonly blocks: Block[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.wake?.();
      resolve();
    }));
  }

  /** `localAddress`: another loopback address (127.0.0.2 …) makes the connection come from another host. */
  static async connect(port: number, localAddress = '127.0.0.1'): Promise<RawAmi> {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawAmi(socket);
  }

  /** A connection that has read its banner. */
  static async open(port: number, localAddress?: string): Promise<RawAmi> {
    const ami = await RawAmi.connect(port, localAddress);
    await eventually(() => ami.banner !== '', WAIT_MS, 'the AMI banner');
    return ami;
  }

  /** A connection logged in as `user`. */
  static async login(port: number, user = 'admin', secret = 's3cret!', localAddress?: string): Promise<RawAmi> {
    const ami = await RawAmi.open(port, localAddress);
    const response = await ami.request(['Action: Login', `Username: ${user}`, `Secret: ${secret}`]);
    expect(response.get('Message'), response.raw).to.equal('Authentication accepted');
    return ami;
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Sends the lines as one request and waits for the block that answers it. */
  async request(lines: string[]): Promise<Block> {
    this.write(`${lines.join('\r\n')}\r\n\r\n`);
    return this.nextWhere((block) => block.get('Response') !== undefined);
  }

  /** Removes and returns the first queued or future block matching `predicate`. */
  async nextWhere(predicate: (block: Block) => boolean, timeoutMs = WAIT_MS): Promise<Block> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.blocks.findIndex(predicate);
      if (index >= 0) return this.blocks.splice(index, 1)[0];
      if (this.socket.destroyed || Date.now() > deadline) {
        throw new Error(`no matching AMI block (${this.socket.destroyed ? 'connection closed' : 'timeout'}); queued:\n${this.blocks.map((block) => block.raw).join('\n--\n')}`);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    if (this.banner === '') {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      this.banner = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
    }
    for (let end = this.buffer.indexOf('\r\n\r\n'); end >= 0; end = this.buffer.indexOf('\r\n\r\n')) {
      this.blocks.push(new Block(this.buffer.slice(0, end)));
      this.buffer = this.buffer.slice(end + 4);
    }
    this.wake?.();
  }
}

