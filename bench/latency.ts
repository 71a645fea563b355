// Figure 6: p50/p99 SUBSCRIBE → 200 at 1,000 calls/s for 10 s, from SIPp's per-call response times (-trace_rtt).
import path from 'node:path';
import { isMain, makeWorkDir, removeWorkDir, type Figure } from './lib/figure.js';
import { writeSippDialplan } from './lib/resources.js';
import { startServer } from './lib/server-process.js';
import { readResponseTimes, runSipp, SUBSCRIBE_CYCLE_SCENARIO } from './lib/sipp.js';
import { percentiles, type Percentiles } from './lib/stats.js';

const RATE = 1000;
const CALLS = RATE * 10;
const TARGET_P99_MS = 5;

export interface LatencyDetails {
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** SIPp writes whole milliseconds; on this machine they come in steps of its clock's tick (see PERFORMANCE.md). */
  responseMs: Percentiles;
  command: string;
  serverCommand: string;
}

export async function benchLatency(): Promise<Figure<LatencyDetails>> {
  const workDir = await makeWorkDir('latency');
  try {
    const files = writeSippDialplan(workDir);
    const server = await startServer({ configFile: files.configFile, dataDir: path.join(workDir, 'data') });
    try {
      const sipp = await runSipp({
        server: { host: server.host, port: server.udpPort }, scenario: SUBSCRIBE_CYCLE_SCENARIO, csvFile: files.csvFile,
        rate: RATE, calls: CALLS, workDir, traceRtt: true,
      });
      if (sipp.rttFile === undefined) throw new Error('SIPp wrote no -trace_rtt file');
      const responseMs = percentiles(readResponseTimes(sipp.rttFile));
      const details: LatencyDetails = {
        rate: RATE, calls: CALLS, successful: sipp.successful, failed: sipp.failed, retransmissions: sipp.retransmissions,
        responseMs, command: sipp.command, serverCommand: server.command,
      };
      return {
        line: `latency: p50 ${responseMs.p50} ms, p99 ${responseMs.p99} ms SUBSCRIBE → 200 at ${RATE} calls/s ` +
          `(max ${responseMs.max} ms, ${responseMs.count} samples, ${sipp.failed} failed, ${sipp.retransmissions} retransmissions)`,
        target: `p99 ≤ ${TARGET_P99_MS} ms`,
        met: sipp.failed === 0 && responseMs.p99 <= TARGET_P99_MS,
        details,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await removeWorkDir(workDir);
  }
}

if (isMain(import.meta.url)) {
  const figure = await benchLatency();
  console.log(figure.line);
  console.log(JSON.stringify(figure.details, null, 2));
}
