// The server a SIPp figure runs against: presenced (the figure) or, with `--peer kamailio`, Kamailio's presence
// module on the same scenario and rates. Each step starts its own, fresh.
import path from 'node:path';
import { kamailioAvailable, startKamailioPresence } from './kamailio-peer.js';
import { postgresAvailable } from './postgres.js';
import { treeCpuSeconds } from './proc.js';
import { startServer } from './server-process.js';

export type TargetName = 'presenced' | 'kamailio';

export interface Target {
  readonly name: TargetName;
  readonly pid: number;
  readonly host: string;
  readonly udpPort: number;
  /** presenced's --http port when asked for (/metrics), else 0. */
  readonly httpPort: number;
  readonly command: string;
  /** CPU seconds the server has used so far, with every process it needs (Kamailio's workers and database). */
  cpuSeconds(): number;
  stop(): Promise<unknown>;
}

/** The server `--peer NAME` names on the command line (only kamailio is known), or presenced without it. */
export function targetArgument(argv: readonly string[] = process.argv): TargetName {
  const index = argv.indexOf('--peer');
  if (index === -1) return 'presenced';
  const peer = argv[index + 1];
  if (peer !== 'kamailio') throw new Error(`--peer: only kamailio is known, not ${peer ?? 'nothing'}`);
  if (!kamailioAvailable()) throw new Error('--peer kamailio: kamailio and kamailio-presence-modules are not installed (bash scripts/install-deps.sh)');
  if (!postgresAvailable()) console.error('--peer kamailio: PostgreSQL is not installed (bash scripts/install-deps.sh --bench); Kamailio keeps its tables in db_text files, which slow it down as they grow (docs/PERFORMANCE.md, figure 13)');
  return peer;
}

/** A fresh server for one step; `step` names its data directory in `workDir`. presenced gets `args` as well. */
export async function startTarget(name: TargetName, files: { configFile: string }, workDir: string, step: string, args: string[] = []): Promise<Target> {
  const dir = path.join(workDir, `${name}-${step}`);
  if (name === 'kamailio') return { name, httpPort: 0, ...(await startKamailioPresence(dir)) };
  const server = await startServer({ configFile: files.configFile, dataDir: dir, args });
  return { name, pid: server.pid, host: server.host, udpPort: server.udpPort, httpPort: server.httpPort, command: server.command, cpuSeconds: () => treeCpuSeconds(server.pid), stop: () => server.stop() };
}
