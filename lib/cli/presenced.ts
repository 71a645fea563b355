import path from 'node:path';
import { Command } from 'commander';
import { addCommonFlags, addOptionFlags, readOptions } from '../config/command-line.js';
import { BUNDLED_DIALPLAN } from '../config/paths.js';
import { buildServerConfig, ConfigError, type ServerConfig } from '../config/server-config.js';
import { PresenceServer } from '../server.js';
import { formatHostPort } from '../sip/transport.js';
import { createLogger } from '../util/log.js';

function fail(message: string): never {
  process.stderr.write(`presenced: ${message}\n`);
  process.exit(1);
}

/** A start failure as one line; a port that cannot be taken names the address and the usual cause. */
function describeStartFailure(error: NodeJS.ErrnoException & { address?: string; port?: number }): string {
  const address = error.address === undefined ? '' : formatHostPort(error.address, error.port ?? 0);
  if (error.code === 'EADDRINUSE') {
    return `cannot listen on ${address}: the address is already in use — usually Asterisk (or another SIP server) already holds it; give presenced another port or address (--udp/--tcp HOST:PORT, or [sip] in presenced.conf)`;
  }
  if (error.code === 'EACCES') return `cannot listen on ${address}: permission denied — ports below 1024 need root or CAP_NET_BIND_SERVICE`;
  if (error.code === 'EADDRNOTAVAIL') return `cannot listen on ${address}: no interface of this host has that address`;
  return error.message;
}

const program = addOptionFlags(
  addCommonFlags(new Command('presenced').description('SIP presence server: Asterisk-style hints and CustomPresence states, NOTIFYs with PIDF bodies')),
);
program.parse();

let config: ServerConfig;
let configFile: string | undefined;
let values: ReturnType<typeof readOptions>['values'];
try {
  ({ values, configFile } = readOptions(program));
  config = buildServerConfig(values);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}
const log = createLogger(values.logLevel, undefined, values.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json'));
if (configFile !== undefined) log.info(`options from ${configFile}`);
if (config.dialplanFile === BUNDLED_DIALPLAN && values.dialplan === undefined) {
  log.warn(`no dialplan named (--config, or dialplan= in [general]) and no ./extensions.conf: serving the bundled sample ${BUNDLED_DIALPLAN}`);
}

let server: PresenceServer;
try {
  server = new PresenceServer(config, log);
  await server.start();
} catch (error) {
  fail(describeStartFailure(error as NodeJS.ErrnoException));
}

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: shutting down`);
  // Everything is already durable; this only closes sockets and the store. A hung close must not keep us alive.
  setTimeout(() => process.exit(0), 3000).unref();
  server.stop().then(
    () => process.exit(0),
    (error: Error) => fail(`shutdown: ${error.message}`),
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGHUP', () => server.reload());

// Only now: whoever waits for this line may signal at once (SIGHUP's default action would end the process).
process.stdout.write(`presenced listening on ${server.describeListening()} with ${server.hintCount} hints\n`);
log.info(`hints from ${config.dialplanFile}, context '${config.context}', data in ${path.resolve(config.dataDir)}`);

