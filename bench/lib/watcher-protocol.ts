/**
 * Messages between the bench and its watcher process (Node IPC), kept in one file so the two cannot drift apart.
 * Times are monotonic milliseconds (clock.ts), comparable across the processes.
 */
import type { Percentiles } from './stats.js';
import type { BenchEvent, Endpoint } from './sip-ua.js';

export type ArrivalKind = 'notify' | 'raw';

export type WatcherCommand =
  /** Subscribe `each` times to every exten (round-robin), at most `rate` new SUBSCRIBEs/s and `window` outstanding;
   *  done once every SUBSCRIBE has its final response and the initial NOTIFYs are in (or `settleMs` passed). */
  | { type: 'subscribe'; server: Endpoint; extens: string[]; each: number; rate: number; window: number; expires: number; settleMs: number; event?: BenchEvent }
  /** Report once `count` new (non-repeated) arrivals of `kind` are in, or after `timeoutMs`. */
  | { type: 'expect'; kind: ArrivalKind; count: number; timeoutMs: number }
  | { type: 'close' };

export interface SubscribedReport {
  type: 'subscribed';
  ok: number;
  failed: number;
  /** SUBSCRIBE retransmissions (no final response within T1, 2·T1, …). */
  retransmissions: number;
  /** Initial NOTIFYs answered by the end. */
  notifies: number;
  elapsedMs: number;
  /** SUBSCRIBE → final response, as this process saw it. */
  latencyMs: Percentiles;
}

export interface ExpectedReport {
  type: 'expected';
  kind: ArrivalKind;
  received: number;
  /** Repeated NOTIFYs (retransmissions) answered meanwhile; always 0 for raw datagrams. */
  repeats: number;
  averageBytes: number;
  firstAt: number;
  lastAt: number;
  /** When the 200 to the last NOTIFY left (equals lastAt for raw datagrams). */
  lastAnsweredAt: number;
  /** CPU time (user + system) the watcher process used from arming to the last arrival: near the elapsed time means
   *  the watcher, not the sender, set the pace. */
  cpuMs: number;
}

export type WatcherReport =
  | { type: 'ready'; ports: number[] }
  | SubscribedReport
  /** The expectation is counting: the burst may start. */
  | { type: 'armed'; kind: ArrivalKind }
  /** The first arrival of an armed expectation, so the bench can act while the burst is still going. */
  | { type: 'first'; kind: ArrivalKind; at: number }
  | ExpectedReport;
