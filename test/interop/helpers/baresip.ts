// baresip, headless: a generated config directory (no audio, no registration), its presence module subscribing to
// every contact marked ;presence=p2p, and its ctrl_tcp module answering commands as JSON in netstrings.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManagedProcess } from './child.js';
import { CONTROL_PORTS, HOST, SIP_PORTS } from './ports.js';

const MODULE_PATH = process.env.BARESIP_MODULES ?? '/usr/lib/baresip/modules';
/** baresip quits by itself after this (-t), should the suite fail to stop it. */
const LIFETIME_S = 60;
const READY_TIMEOUT_MS = 10000;
const COMMAND_TIMEOUT_MS = 5000;

export interface BaresipContact {
  /** What baresip shows: Unknown, Online, Busy or Offline. */
  status: string;
  name: string;
  uri: string;
}

const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

function config(): string {
  return [
    'poll_method epoll',
    `sip_listen ${HOST}:${SIP_PORTS.baresip}`,
    `module_path ${MODULE_PATH}`,
    'module account.so',
    'module contact.so',
    'module presence.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen ${HOST}:${CONTROL_PORTS.baresip}`,
    '',
  ].join('\n');
}

/** A `contacts` line: `>     Online Desk <sip:2000@127.0.0.1:25060>` (the status is colored on a terminal). */
function parseContacts(listing: string): BaresipContact[] {
  return listing
    .replace(ANSI_ESCAPE, '')
    .split('\n')
    .flatMap((line) => {
      const match = /^\s*>?\s*(\S+)\s+(.*?)\s*<([^>]+)>\s*$/.exec(line);
      return match ? [{ status: match[1], name: match[2], uri: match[3] }] : [];
    });
}

/** ctrl_tcp: `{"command":…,"token":…}` as a netstring in, `{"response":true,"ok":…,"data":…,"token":…}` out. */
class ControlConnection {
  private buffer = Buffer.alloc(0);
  private nextToken = 1;
  private readonly pending = new Map<string, (reply: { ok: boolean; data: string }) => void>();

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<ControlConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: HOST, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new ControlConnection(socket));
      });
    });
  }

  command(command: string, params = ''): Promise<string> {
    const token = String(this.nextToken++);
    const json = JSON.stringify({ command, params, token });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip did not answer '${command}' within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(token, ({ ok, data }) => {
        clearTimeout(timer);
        if (ok) resolve(data);
        else reject(new Error(`baresip '${command}' failed: ${data}`));
      });
      this.socket.write(`${Buffer.byteLength(json)}:${json},`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /** Cuts netstrings (`<length>:<bytes>,`) out of the stream; events (no token of ours) are ignored. */
  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString());
      if (this.buffer.length < colon + 1 + length + 1) return;
      const payload = this.buffer.subarray(colon + 1, colon + 1 + length).toString('utf8');
      this.buffer = this.buffer.subarray(colon + 1 + length + 1);
      const message = JSON.parse(payload) as { response?: boolean; ok?: boolean; data?: string; token?: string };
      const settle = message.response && message.token !== undefined ? this.pending.get(message.token) : undefined;
      if (settle) {
        this.pending.delete(message.token!);
        settle({ ok: message.ok === true, data: message.data ?? '' });
      }
    }
  }
}

export class Baresip {
  private constructor(
    private readonly child: ManagedProcess,
    private readonly control: ControlConnection,
    private readonly configDir: string,
  ) {}

  /** Starts baresip with one account (no registration) and `contacts`, each watched over presence=p2p. */
  static async start(contacts: Array<{ name: string; uri: string }>): Promise<Baresip> {
    const configDir = await mkdtemp(path.join(tmpdir(), 'presenced-baresip-'));
    await writeFile(path.join(configDir, 'config'), config());
    await writeFile(path.join(configDir, 'accounts'), `<sip:interop@${HOST}>;regint=0\n`);
    await writeFile(path.join(configDir, 'contacts'), contacts.map(({ name, uri }) => `"${name}" <${uri}>;presence=p2p\n`).join(''));
    // -s traces SIP on stdout: the 200 to each NOTIFY tells when baresip has taken the new state in.
    const args = ['-4', '-n', HOST, '-f', configDir, '-s', '-t', String(LIFETIME_S)];
    const child = ManagedProcess.start('baresip', args, { timeoutMs: (LIFETIME_S + 5) * 1000 });
    try {
      await child.until(() => (child.stdout().includes('baresip is ready.') ? true : undefined), READY_TIMEOUT_MS, 'ready line');
      return new Baresip(child, await ControlConnection.open(CONTROL_PORTS.baresip), configDir);
    } catch (error) {
      await child.stop('SIGKILL');
      await rm(configDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The CSeq numbers of the NOTIFYs baresip has answered so far (a retransmission counts once). */
  answeredNotifies(): Set<number> {
    const answered = new Set<number>();
    // Trace blocks start with "UDP <from> -> <to>"; a response with "CSeq: n NOTIFY" answers one (only baresip answers
    // NOTIFYs; over TLS it sends from its connection's own port, not its listening one).
    const blocks = this.child.stdout().replace(ANSI_ESCAPE, '').split(/^(?=(?:UDP|TCP|TLS) \S+ -> \S+\s*$)/m);
    for (const block of blocks) {
      if (!/^SIP\/2\.0 \d{3} /m.test(block)) continue;
      const cseq = /^CSeq:\s*(\d+)\s+NOTIFY\s*$/im.exec(block);
      if (cseq) answered.add(Number(cseq[1]));
    }
    return answered;
  }

  /** Resolves once baresip has answered `count` distinct NOTIFYs. */
  async waitForAnsweredNotifies(count: number, timeoutMs: number): Promise<void> {
    await this.child.until(() => (this.answeredNotifies().size >= count ? true : undefined), timeoutMs, `answer to NOTIFY #${count}`);
  }

  async contacts(): Promise<BaresipContact[]> {
    return parseContacts(await this.control.command('contacts'));
  }

  transcript(): string {
    return this.child.transcript();
  }

  /** SIGTERM lets baresip unsubscribe (Expires: 0) before it exits. */
  async stop(): Promise<void> {
    this.control.close();
    await this.child.stop('SIGTERM');
    await rm(this.configDir, { recursive: true, force: true });
  }
}
