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

/** A friend of linphonec's friend list, as the app's address book holds it. */
export interface LinphoneFriend {
  name: string;
  uri: string;
}

export interface LinphonecOptions {
  /**
   * The resource list server (`[sip] rls_uri`): liblinphone then subscribes to its whole friend list in one SUBSCRIBE
   * with the friends in the body (RFC 5367), without an account (`subscribe_presence_only_when_registered=0`).
   */
  rlsUri?: string;
  /** Friends in the configuration, subscribed at start. */
  friends?: LinphoneFriend[];
}

/** UDP only, no audio or video: linphonec is a presence watcher here. */
function linphonerc(home: string, options: LinphonecOptions): string {
  return [
    '[sip]',
    `sip_port=${SIP_PORTS.linphonec}`,
    'sip_tcp_port=0',
    'sip_tls_port=0',
    'default_proxy=-1',
    ...(options.rlsUri ? [`rls_uri=${options.rlsUri}`, 'subscribe_presence_only_when_registered=0'] : []),
    ...(options.friends ?? []).flatMap((friend, index) => [`[friend_${index}]`, `url="${friend.name}" <${friend.uri}>`, 'pol=accept', 'subscribe=1']),
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
  static async start(options: LinphonecOptions = {}): Promise<Linphonec> {
    const home = await mkdtemp(path.join(tmpdir(), 'presenced-linphonec-'));
    await mkdir(path.join(home, '.local', 'share', 'linphone'), { recursive: true });
    const rc = path.join(home, 'linphonerc');
    await writeFile(rc, linphonerc(home, options));
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

  /** Every status linphonec printed for the friend called `name`, oldest first. */
  statusesOf(name: string): string[] {
    return [...this.child.stdout().matchAll(STATUS_LINE)].filter((match) => match[1]!.startsWith(`"${name}" `)).map((match) => match[2]!);
  }

  /** Resolves once linphonec has printed `count` statuses for the friend called `name`, with the last one. */
  nthStatusOf(name: string, count: number, timeoutMs: number): Promise<string> {
    return this.child.until(() => this.statusesOf(name)[count - 1], timeoutMs, `status line #${count} of friend ${name}`);
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
