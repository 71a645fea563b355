// Runs SIPp (the sip-tester package) against the server and reads its statistics file.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { udpDrops } from './proc.js';
import { freeUdpPort } from './ports.js';

export const SUBSCRIBE_CYCLE_SCENARIO = 'fixtures/sipp/bench-subscribe-cycle.xml';
/** SIPp's own socket buffer: without it SIPp drops packets before the server is at its limit. */
const SIPP_BUFFER_BYTES = 4 * 1024 * 1024;
/** SIPp's global timeout; a call still open then counts as failed (-timeout_error). */
const SIPP_TIMEOUT_S = 30;
const DROP_SAMPLE_MS = 250;

export interface SippRun {
  server: { host: string; port: number };
  /** Scenario relative to the repo root. */
  scenario: string;
  /** The -inf resource CSV. */
  csvFile: string;
  rate: number;
  calls: number;
  /** SIPp's working directory: its statistics (and -trace_rtt) files are written there. */
  workDir: string;
  /** Also write every response time (-trace_rtt -rtt_freq 1) and poll SIPp's timers every ms (-timer_resol 1). */
  traceRtt?: boolean;
}

export interface SippResult {
  exitCode: number | null;
  successful: number;
  failed: number;
  retransmissions: number;
  /** SIPp's average call rate over the run (calls/s). */
  callRate: number;
  localPort: number;
  /** Datagrams the kernel dropped on SIPp's socket (sampled while it ran). */
  drops: number;
  /** The exact command line (the working directory is `workDir`). */
  command: string;
  /** The -trace_rtt file, when asked for. */
  rttFile?: string;
}

export function sippVersion(): string {
  try {
    const banner = execFileSync('sipp', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /SIPp v\S+/.exec(banner)?.[0] ?? banner.trim();
  } catch (error) {
    // `sipp -v` exits non-zero after printing its version.
    const output = String((error as { stdout?: string }).stdout ?? '');
    const version = /SIPp v\S+/.exec(output)?.[0];
    if (version) return version;
    throw new Error('sipp is not installed (bash scripts/install-deps.sh installs sip-tester)');
  }
}


export async function runSipp(run: SippRun): Promise<SippResult> {
  const localPort = await freeUdpPort();
  const statFile = `stat-${run.rate}-${localPort}.csv`;
  const args = [
    `${run.server.host}:${run.server.port}`,
    '-sf', path.resolve(process.cwd(), run.scenario),
    '-inf', run.csvFile,
    '-i', '127.0.0.1', '-p', String(localPort),
    '-r', String(run.rate), '-m', String(run.calls),
    '-buff_size', String(SIPP_BUFFER_BYTES),
    '-trace_stat', '-stf', statFile, '-fd', '1',
    '-timeout', String(SIPP_TIMEOUT_S), '-timeout_error',
    '-nostdin',
  ];
  if (run.traceRtt) args.push('-trace_rtt', '-rtt_freq', '1', '-timer_resol', '1');
  const child = spawn('sipp', args, { cwd: run.workDir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let drops = 0;
  const sampler = setInterval(() => (drops = Math.max(drops, udpDrops([localPort]))), DROP_SAMPLE_MS);
  const killer = setTimeout(() => child.kill('SIGKILL'), (run.calls / run.rate + SIPP_TIMEOUT_S + 15) * 1000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  clearTimeout(killer);
  clearInterval(sampler);

  const stats = lastStatistics(path.join(run.workDir, statFile), stderr);
  const prefix = `${path.basename(run.scenario, '.xml')}_${child.pid}_rtt`;
  const rttFile = run.traceRtt ? readdirSync(run.workDir).find((name) => name.startsWith(prefix)) : undefined;
  return {
    exitCode,
    successful: stats('SuccessfulCall(C)'),
    failed: stats('FailedCall(C)'),
    retransmissions: stats('Retransmissions(C)'),
    callRate: stats('CallRate(C)'),
    localPort,
    drops,
    command: `sipp ${args.join(' ')}`,
    rttFile: rttFile === undefined ? undefined : path.join(run.workDir, rttFile),
  };
}

/** The last row of a -trace_stat file, by column name (the header row names the columns). */
function lastStatistics(file: string, stderr: string): (column: string) => number {
  let rows: string[];
  try {
    rows = readFileSync(file, 'utf8').split('\n').filter((row) => row.trim() !== '');
  } catch {
    throw new Error(`SIPp wrote no statistics (${file})${stderr ? `: ${stderr.trim().slice(0, 500)}` : ''}`);
  }
  if (rows.length < 2) throw new Error(`SIPp statistics file has no data row: ${file}`);
  const header = rows[0]!.split(';');
  const last = rows[rows.length - 1]!.split(';');
  return (column) => {
    const index = header.indexOf(column);
    if (index === -1) throw new Error(`SIPp statistics have no ${column} column`);
    return Number(last[index]);
  };
}

/** SUBSCRIBE → 200 times (response time 1) from a -trace_rtt file: `Date_ms;response_time_ms;rtd_no` rows. */
export function readResponseTimes(rttFile: string): number[] {
  const times: number[] = [];
  for (const row of readFileSync(rttFile, 'utf8').split('\n').slice(1)) {
    const [, responseTime, rtd] = row.split(';');
    if (rtd?.trim() === '1') times.push(Number(responseTime));
  }
  return times;
}
