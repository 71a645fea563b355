// linphonec (liblinphone's console client), headless: commands go in on a stdin pipe, and every NOTIFY it takes in
// prints one `Friend "<name>" <uri> is <status>` line on stdout.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManagedProcess } from './child.js';
import { SIP_PORTS } from './ports.js';

/** The suite kills linphonec after this, should it not quit when told. */
const LIFETIME_MS = 60000;
const QUIT_TIMEOUT_MS = 5000;

const STATUS_LINE = /Friend (.*) is (.+?)\s*$/gm;

/** UDP only, no audio or video: linphonec is a presence watcher here. */
function linphonerc(home: string): string {
  return [
    '[sip]',
    `sip_port=${SIP_PORTS.linphonec}`,
    'sip_tcp_port=0',
    'sip_tls_port=0',
    'default_proxy=-1',
    '[video]',
    'enabled=0',
    'capture=0',
    'display=0',
    '[sound]',
    'echocancellation=0',
    '[storage]',
    `uri=${path.join(home, 'linphone.db')}`,
    '',
  ].join('\n');
}

export class Linphonec {
  private constructor(private readonly child: ManagedProcess, private readonly home: string) {}

  /** A fresh HOME keeps linphonec's databases (friends, call history) out of the real one. */
  static async start(): Promise<Linphonec> {
    const home = await mkdtemp(path.join(tmpdir(), 'presenced-linphonec-'));
    await mkdir(path.join(home, '.local', 'share', 'linphone'), { recursive: true });
    const rc = path.join(home, 'linphonerc');
    await writeFile(rc, linphonerc(home));
    const child = ManagedProcess.start('linphonec', ['-c', rc], {
      cwd: home,
      env: { ...process.env, HOME: home, XDG_DATA_HOME: path.join(home, '.local', 'share') },
      timeoutMs: LIFETIME_MS,
    });
    return new Linphonec(child, home);
  }

  /** `friend add`: linphonec subscribes to the friend's presence at once. */
  addFriend(name: string, uri: string): void {
    this.child.write(`friend add "${name}" ${uri}\n`);
  }

  /** Every status linphonec printed so far, oldest first. */
  statuses(): string[] {
    return [...this.child.stdout().matchAll(STATUS_LINE)].map((match) => match[2]);
  }

  /** Resolves with the `count`-th status line once linphonec has printed it. */
  nthStatus(count: number, timeoutMs: number): Promise<string> {
    return this.child.until(() => this.statuses()[count - 1], timeoutMs, `friend status line #${count}`);
  }

  transcript(): string {
    return this.child.transcript();
  }

  /** `quit` lets linphonec end its subscriptions; SIGKILL if it does not exit in time. */
  async stop(): Promise<void> {
    if (this.child.running) {
      this.child.write('quit\n');
      const forced = setTimeout(() => void this.child.stop('SIGKILL'), QUIT_TIMEOUT_MS);
      await this.child.exited;
      clearTimeout(forced);
    }
    await rm(this.home, { recursive: true, force: true });
  }
}
