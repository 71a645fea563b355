// Kamailio as the stateless front of a presenced cluster (docs/CLUSTER.md): the dispatcher module spreads new
// SUBSCRIBEs over the nodes round-robin, record_route keeps each dialog's later requests and NOTIFYs on the proxy,
// OPTIONS probing takes a dead node out of the set, and a failure route moves a request that timed out to the next.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManagedProcess } from './child.js';
import { HOST } from './ports.js';

const MODULE_PATH = process.env.KAMAILIO_MODULES ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules';
/** Killed by then whatever happens: the suite must never hang on it. */
const LIFETIME_MS = 120_000;
const READY_TIMEOUT_MS = 10_000;

function config(port: number, listFile: string): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
listen=udp:${HOST}:${port}
mpath="${MODULE_PATH}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "dispatcher.so"
# A node that does not answer within 1 s is given up on; the failure route tries the next one.
modparam("tm", "fr_timer", 1000)
modparam("dispatcher", "list_file", "${listFile}")
# flags 2: keep the other nodes of the set for ds_next_dst (failover).
modparam("dispatcher", "flags", 2)
# OPTIONS to every node each second; one failure marks it inactive, one answer active again.
modparam("dispatcher", "ds_ping_interval", 1)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)

request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  # In a dialog (refresh, unsubscribe, NOTIFY): follow the route set the dialog recorded.
  if (has_totag()) {
    if (loose_route()) {
      t_relay();
      exit;
    }
    sl_send_reply("404", "Not Here");
    exit;
  }
  # A new SUBSCRIBE, PUBLISH or OPTIONS: the next node of set 1, round-robin.
  record_route();
  if (!ds_select_dst("1", "4")) {
    sl_send_reply("503", "No Presence Node");
    exit;
  }
  t_on_failure("NEXT_NODE");
  t_relay();
}

failure_route[NEXT_NODE] {
  if (t_is_canceled()) exit;
  # Silent: out of the set until probing sees it answer. Overloaded (503): only this request moves on.
  if (t_check_status("408")) ds_mark_dst("ip");
  if (t_check_status("408|5[0-9][0-9]") && ds_next_dst()) {
    t_on_failure("NEXT_NODE");
    t_relay();
  }
}
`;
}

export interface Kamailio {
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Runs Kamailio on `configFile`, which listens on udp 127.0.0.1:`port`, and resolves once it does. -DD: no daemon,
 * the process stays ours; -E: log to stderr; -Y: pid and control files in `dir`; `memory`: -m/-M sizes in MB.
 */
export async function launchKamailio(configFile: string, dir: string, port: number, memory = { shared: 64, private: 8 }, lifetimeMs = LIFETIME_MS): Promise<ManagedProcess> {
  const process = ManagedProcess.start('kamailio', ['-DD', '-E', '-f', configFile, '-Y', dir, '-m', String(memory.shared), '-M', String(memory.private)], { timeoutMs: lifetimeMs });
  try {
    // "Listening on … udp: 127.0.0.1:PORT" goes to stdout once the configuration is loaded.
    await process.until(() => (process.stdout().includes(`udp: ${HOST}:${port}`) ? true : undefined), READY_TIMEOUT_MS, 'listening line');
  } catch (error) {
    // SIGTERM: the main process takes its children down with it (SIGKILL would leave them holding our pipes).
    await process.stop();
    throw error;
  }
  return process;
}

/** Starts Kamailio on `port` in front of `nodes` (SIP ports on 127.0.0.1, UDP). */
export async function startKamailio(port: number, nodes: number[]): Promise<Kamailio> {
  const dir = await mkdtemp(path.join(tmpdir(), 'presenced-kamailio-'));
  const listFile = path.join(dir, 'dispatcher.list');
  const configFile = path.join(dir, 'kamailio.cfg');
  await writeFile(listFile, nodes.map((node) => `1 sip:${HOST}:${node}\n`).join(''));
  await writeFile(configFile, config(port, listFile));
  const process = await launchKamailio(configFile, dir, port).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    port,
    process,
    async stop() {
      await process.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
