// The server a SIPp figure runs against: presenced (the figure) or, with `--peer kamailio`, Kamailio's presence
// module on the same scenario and rates. Each step starts its own, fresh.
import path from 'node:path';
import { startKamailioPresence } from './kamailio-peer.js';
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
  stop(): Promise<unknown>;
}

/** A fresh server for one step; `step` names its data directory in `workDir`. presenced gets `args` as well. */
export async function startTarget(name: TargetName, files: { configFile: string }, workDir: string, step: string, args: string[] = []): Promise<Target> {
  const dir = path.join(workDir, `${name}-${step}`);
  if (name === 'kamailio') return { name, httpPort: 0, ...(await startKamailioPresence(dir)) };
  const server = await startServer({ configFile: files.configFile, dataDir: dir, args });
  return { name, pid: server.pid, host: server.host, udpPort: server.udpPort, httpPort: server.httpPort, command: server.command, stop: () => server.stop() };
}
