// The reference server of `npm run bench -- --peer kamailio`: Kamailio's presence module (Debian kamailio and
// kamailio-presence-modules) on 127.0.0.1, fresh for each step like presenced, watchers authorised without XCAP
// (presence_xml force_active), UDP only. Its tables live in a PostgreSQL server started with it when
// `scripts/install-deps.sh --bench` has installed one, else in db_text files: db_text scans a table row by row, and
// the presence module adds a `watchers` row for every new watcher, so on db_text Kamailio slows down as it runs.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freeUdpPort } from './ports.js';
import { postgresAvailable, startPostgres } from './postgres.js';
import { treeCpuSeconds } from './proc.js';
import { launchKamailio } from '../../test/interop/helpers/kamailio.js';

const MODULE_PATH = process.env.KAMAILIO_MODULES ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules';
const DBTEXT_SCHEMA = '/usr/share/kamailio/dbtext/kamailio';
/** Killed by then whatever happens: the longest step (an overload one) takes about a minute. */
const LIFETIME_MS = 5 * 60_000;
/** Kamailio's own default: 8 UDP worker processes. */
const CHILDREN = 8;

export interface PeerProcess {
  readonly pid: number;
  readonly host: string;
  readonly udpPort: number;
  readonly command: string;
  /** CPU seconds used so far by Kamailio's processes and its database server's. */
  cpuSeconds(): number;
  stop(): Promise<unknown>;
}

function config(port: number, database: { module: string; url: string }): string {
  return `#!KAMAILIO
debug=1
log_stderror=yes
children=${CHILDREN}
listen=udp:127.0.0.1:${port}
mpath="${MODULE_PATH}"
loadmodule "${database.module}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "presence.so"
loadmodule "presence_xml.so"
modparam("presence", "db_url", "${database.url}")
modparam("presence", "server_address", "sip:127.0.0.1:${port}")
modparam("presence_xml", "db_url", "${database.url}")
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

/** Starts Kamailio's presence server (and its database server) in `workDir` and resolves once it listens. */
export async function startKamailioPresence(workDir: string): Promise<PeerProcess> {
  if (!kamailioAvailable()) throw new Error('kamailio with its presence modules is not installed (bash scripts/install-deps.sh)');
  const port = await freeUdpPort();
  mkdirSync(workDir, { recursive: true });
  const postgres = postgresAvailable() ? await startPostgres() : undefined;
  let database = { module: 'db_postgres.so', url: postgres?.url ?? '' };
  if (!postgres) {
    const dbDir = path.join(workDir, 'dbtext');
    cpSync(DBTEXT_SCHEMA, dbDir, { recursive: true });
    database = { module: 'db_text.so', url: `text://${dbDir}` };
  }
  const configFile = path.join(workDir, 'kamailio.cfg');
  writeFileSync(configFile, config(port, database));
  const kamailio = await launchKamailio(configFile, workDir, port, { shared: 256, private: 16 }, LIFETIME_MS).catch(async (error: unknown) => {
    await postgres?.stop();
    throw error;
  });
  return {
    pid: kamailio.pid!,
    host: '127.0.0.1',
    udpPort: port,
    command: kamailio.commandLine,
    cpuSeconds: () => treeCpuSeconds(kamailio.pid!) + (postgres ? treeCpuSeconds(postgres.pid) : 0),
    async stop() {
      await kamailio.stop();
      await postgres?.stop();
    },
  };
}
