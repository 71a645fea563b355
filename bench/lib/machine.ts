// What the figures were measured on: they mean little without the machine, its load and its UDP buffer limit.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { sippVersion } from './sipp.js';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memory: string;
  node: string;
  sipp: string;
  kernel: string;
  /** net.core.rmem_max: caps every socket's receive buffer, so it bounds figures 2, 3 and 6. */
  rmemMax: number;
}

function command(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  let sipp: string;
  try {
    sipp = sippVersion();
  } catch (error) {
    sipp = (error as Error).message;
  }
  return {
    cpus: Number(command('nproc', [])) || os.availableParallelism(),
    cpuModel,
    memory: command('free', ['-h']).split('\n').find((line) => line.startsWith('Mem:'))?.replace(/\s+/g, ' ') ?? 'unknown',
    node: process.version,
    sipp,
    kernel: os.release(),
    rmemMax: Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()),
  };
}

/** 1, 5 and 15 minute load averages: other work on the machine skews every figure. */
export function loadAverage(): number[] {
  return os.loadavg().map((load) => Math.round(load * 100) / 100);
}
