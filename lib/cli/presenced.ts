import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PresenceServer, type ServerConfig } from '../server.js';
import { DEFAULT_TIMERS } from '../sip/client-transaction.js';
import { DEFAULT_DELIVERY } from '../subscriptions/delivery-policy.js';
import { DIGIUM_MODES, type DigiumMode } from '../presence/pidf.js';
import { parseListenAddress } from '../sip/transport.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../util/log.js';

const BUNDLED_CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/extensions.conf');

function seconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number of seconds');
  return Number(value);
}

function positive(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0) throw new InvalidArgumentError('expected a positive whole number');
  return Number(value);
}

function listenAddress(value: string): string {
  try {
    parseListenAddress(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

const program = new Command('presenced')
  .description('SIP presence server: Asterisk-style hints and CustomPresence states, NOTIFYs with PIDF bodies')
  .option('--config <file>', 'Asterisk extensions.conf with the hints (default: ./extensions.conf, else the bundled sample)')
  .option('--udp <host:port>', "UDP listen address, or 'off'", listenAddress, '0.0.0.0:5060')
  .option('--tcp <host:port>', "TCP listen address, or 'off'", listenAddress, '0.0.0.0:5060')
  .option('--data <dir>', 'state directory: the store and the control socket', './presenced-data')
  .option('--context <name>', 'the dialplan context SUBSCRIBEs resolve in', 'default')
  .option('--min-expires <s>', 'shortest subscription accepted (shorter gets 423)', seconds, 60)
  .option('--max-expires <s>', 'longest subscription granted', seconds, 3600)
  .option('--default-expires <s>', 'subscription length when the SUBSCRIBE has no Expires', seconds, 3600)
  .option('--t1 <ms>', 'RFC 3261 T1: first NOTIFY retransmission interval over UDP', positive, DEFAULT_TIMERS.t1)
  .option('--t2 <ms>', 'RFC 3261 T2: longest NOTIFY retransmission interval', positive, DEFAULT_TIMERS.t2)
  .option('--notify-failures <n>', 'NOTIFYs failing in a row (timeout, 408, 5xx) before a subscription is dropped', positive, DEFAULT_DELIVERY.maxFailures)
  .option('--notify-rate <n>', 'at most this many NOTIFYs per second to one watcher (changes in between coalesce)', positive, DEFAULT_DELIVERY.maxRate)
  .option('--tcp-idle-timeout <s>', 'close TCP connections idle this long (unless they carry subscriptions)', seconds, 600)
  .option('--ami <host:port>', 'Asterisk Manager Interface listen address, e.g. 127.0.0.1:5038 (off unless given)', listenAddress)
  .option('--ami-config <file>', 'AMI users in Asterisk manager.conf format (needed with --ami)')
  .addOption(new Option('--digium-tuple <mode>', 'add the digium_presence tuple: auto (Digium/Sangoma User-Agents), always, never').choices(DIGIUM_MODES).default('auto'))
  .addOption(new Option('--store <kind>', 'where states live').choices(['sqlite', 'memory']).default('sqlite'))
  .addOption(new Option('--log-level <level>', 'how much to log on stderr').choices(LOG_LEVELS).default('info'));

program.parse();
const options = program.opts<{
  config?: string; udp: string; tcp: string; data: string; context: string; minExpires: number; maxExpires: number;
  defaultExpires: number; t1: number; t2: number; notifyFailures: number; notifyRate: number; tcpIdleTimeout: number; store: 'sqlite' | 'memory'; logLevel: LogLevel; digiumTuple: DigiumMode;
  ami?: string; amiConfig?: string;
}>();

const log = createLogger(options.logLevel);

function fail(message: string): never {
  process.stderr.write(`presenced: ${message}\n`);
  process.exit(1);
}

if (options.minExpires > options.maxExpires) fail('--min-expires must not exceed --max-expires');
const configFile = options.config ?? (fs.existsSync('extensions.conf') ? 'extensions.conf' : BUNDLED_CONFIG);
const config: ServerConfig = {
  configFile,
  udp: parseListenAddress(options.udp),
  tcp: parseListenAddress(options.tcp),
  dataDir: options.data,
  context: options.context,
  expiry: {
    min: options.minExpires,
    max: options.maxExpires,
    default: Math.min(Math.max(options.defaultExpires, options.minExpires), options.maxExpires),
  },
  timers: { t1: options.t1, t2: Math.max(options.t1, options.t2) },
  tcpIdleTimeoutMs: options.tcpIdleTimeout * 1000,
  delivery: { ...DEFAULT_DELIVERY, maxFailures: options.notifyFailures, maxRate: options.notifyRate },
  store: options.store,
  digiumTuple: options.digiumTuple,
};
if (!config.udp && !config.tcp) fail('both transports are off: nothing to listen on');
const ami = options.ami === undefined ? undefined : parseListenAddress(options.ami);
if (ami && options.amiConfig === undefined) fail('--ami needs --ami-config FILE with the AMI users');
if (!ami && options.amiConfig !== undefined) fail('--ami-config has no effect without --ami HOST:PORT');
if (ami && options.amiConfig !== undefined) config.ami = { ...ami, configFile: options.amiConfig };

let server: PresenceServer;
try {
  server = new PresenceServer(config, log);
  await server.start();
} catch (error) {
  fail((error as Error).message);
}

process.stdout.write(`presenced listening on ${server.describeListening()} with ${server.hintCount} hints\n`);
log.info(`hints from ${configFile}, context '${config.context}', data in ${path.resolve(config.dataDir)}`);

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
