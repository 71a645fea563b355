// SIPp runs: a scenario from fixtures/sipp, a bounded number of calls, and the verdict from SIPp's own statistics.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from './child.js';
import { CONTROL_PORTS, HOST, SIP_PORTS } from './ports.js';

/** SIPp's own deadline: a run that has not finished by then fails (-timeout_error). */
const SIPP_TIMEOUT_S = 20;
const KILL_AFTER_MS = (SIPP_TIMEOUT_S + 10) * 1000;

export interface SippOptions {
  /** Scenario file under fixtures/sipp. */
  scenario: string;
  transport: 'UDP' | 'TCP';
  localPort: number;
  /** The extensions the calls use in turn ([field0] of the -inf CSV). */
  resources: string[];
  calls: number;
  /** New calls per second. */
  rate: number;
  /** Where the calls go (default presenced's port); a proxy in front of presenced, for instance. */
  remotePort?: number;
}

export interface SippResult {
  code: number | null;
  successful: number;
  failed: number;
  /** SIPp's screen and error log, for failure messages. */
  report: string;
}

/** The cumulative counters of the last line of a -trace_stat CSV. */
function finalCounters(csv: string): Record<string, string> {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const names = lines[0].split(';');
  const values = lines[lines.length - 1].split(';');
  return Object.fromEntries(names.map((name, index) => [name, values[index]]));
}

export async function runSipp(options: SippOptions): Promise<SippResult> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'presenced-sipp-'));
  try {
    await writeFile(path.join(workDir, 'resources.csv'), ['SEQUENTIAL', ...options.resources.map((resource) => `${resource};`), ''].join('\n'));
    const args = [
      `${HOST}:${options.remotePort ?? SIP_PORTS.server}`,
      '-sf', path.resolve(process.cwd(), 'fixtures/sipp', options.scenario),
      '-inf', 'resources.csv',
      '-t', options.transport === 'UDP' ? 'u1' : 't1',
      '-i', HOST,
      '-p', String(options.localPort),
      '-cp', String(CONTROL_PORTS.sipp),
      '-m', String(options.calls),
      '-r', String(options.rate),
      '-timeout', `${SIPP_TIMEOUT_S}s`,
      '-timeout_error',
      '-trace_stat',
      '-trace_err',
      '-nostdin',
    ];
    // SIPp writes its trace files next to the working directory, named after the scenario.
    const result = await run('sipp', args, { cwd: workDir, timeoutMs: KILL_AFTER_MS });
    const files = await readdir(workDir);
    const statFile = files.find((file) => /_\d+_\.csv$/.test(file));
    const errorFile = files.find((file) => /_\d+_errors\.log$/.test(file));
    const errors = errorFile ? await readFile(path.join(workDir, errorFile), 'utf8') : '';
    const report = `sipp ${args.join(' ')}\nexit ${result.code ?? result.signal}\n${result.stdout.slice(-3000)}\n${result.stderr}\n${errors.slice(0, 4000)}`;
    if (!statFile) throw new Error(`SIPp wrote no statistics\n${report}`);
    const counters = finalCounters(await readFile(path.join(workDir, statFile), 'utf8'));
    return {
      code: result.code,
      successful: Number(counters['SuccessfulCall(C)']),
      failed: Number(counters['FailedCall(C)']),
      report,
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
