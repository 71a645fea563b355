// The reference server of `npm run bench -- --peer kamailio`: Kamailio's presence module (Debian kamailio and
// kamailio-presence-modules) on 127.0.0.1, fresh for each step like presenced, its tables in db_text files copied
// from the package's schema, watchers authorised without XCAP (presence_xml force_active), UDP only.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freeUdpPort } from './ports.js';

const MODULE_PATH = process.env.KAMAILIO_MODULES ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules';
const DBTEXT_SCHEMA = '/usr/share/kamailio/dbtext/kamailio';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
/** Kamailio's own default: 8 UDP worker processes. */
const CHILDREN = 8;

export interface PeerProcess {
  readonly pid: number;
  readonly host: string;
  readonly udpPort: number;
  readonly command: string;
  stop(): Promise<void>;
}

function config(port: number, dbDir: string): string {
  return `#!KAMAILIO
debug=1
log_stderror=yes
children=${CHILDREN}
listen=udp:127.0.0.1:${port}
mpath="${MODULE_PATH}"
loadmodule "db_text.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "presence.so"
loadmodule "presence_xml.so"
modparam("presence", "db_url", "text://${dbDir}")
modparam("presence", "server_address", "sip:127.0.0.1:${port}")
modparam("presence_xml", "db_url", "text://${dbDir}")
modparam("presence_xml", "force_active", 1)

request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (is_method("SUBSCRIBE")) {
    if (!t_newtran()) {
      sl_reply_error();
      exit;
    }
    handle_subscribe();
    t_release();
    exit;
  }
  if (is_method("PUBLISH")) {
    if (!t_newtran()) {
      sl_reply_error();
      exit;
    }
    handle_publish();
    t_release();
    exit;
  }
  sl_send_reply("405", "Method Not Allowed");
}
`;
}


export function kamailioAvailable(): boolean {
  return existsSync(path.join(MODULE_PATH, 'presence.so')) && existsSync(DBTEXT_SCHEMA);
}

/** Starts Kamailio's presence server in `workDir` and resolves once it listens. */
export async function startKamailioPresence(workDir: string): Promise<PeerProcess> {
  if (!kamailioAvailable()) throw new Error('kamailio with its presence modules is not installed (bash scripts/install-deps.sh)');
  const port = await freeUdpPort();
  const dbDir = path.join(workDir, 'dbtext');
  mkdirSync(workDir, { recursive: true });
  cpSync(DBTEXT_SCHEMA, dbDir, { recursive: true });
  const configFile = path.join(workDir, 'kamailio.cfg');
  writeFileSync(configFile, config(port, dbDir));
  const args = ['-DD', '-E', '-f', configFile, '-Y', workDir, '-m', '256', '-M', '16'];
  const child: ChildProcess = spawn('kamailio', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kamailio did not listen within ${READY_TIMEOUT_MS} ms\n${stderr.slice(-2000)}`)), READY_TIMEOUT_MS);
    const poll = setInterval(() => {
      if (!stdout.includes(`udp: 127.0.0.1:${port}`)) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve();
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`kamailio exited before listening\n${stderr.slice(-2000)}`));
    });
  });
  return {
    pid: child.pid!,
    host: '127.0.0.1',
    udpPort: port,
    command: `kamailio ${args.join(' ')}`,
    async stop() {
      // SIGTERM: the main process takes its workers down with it.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(forced);
    },
  };
}
