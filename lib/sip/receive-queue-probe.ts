import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** A probe: the process's random token, then the time it was sent (performance.now(), float64). */
const TOKEN_BYTES = 16;
const PROBE_BYTES = TOKEN_BYTES + 8;
/** A probe not back after this long was dropped (a full queue drops datagrams): send another. */
const LOST_AFTER_MS = 1000;
/** At most one probe this often, ms: overload control asks at every request, and a reading this old will do. */
const PROBE_EVERY_MS = 5;

/**
 * How long a datagram waits in the kernel's receive queue before the event loop reads it. That queue is where a UDP
 * server's overload shows first and where the event loop cannot see it: the loop stays busy but on time while the
 * queue, megabytes long, makes every caller wait and retransmit. A probe is a datagram the socket sends to itself
 * carrying its send time; it queues behind everything already received, so the time it takes to come back is the
 * queueing delay. A random token per process tells probes from SIP and cannot be forged from outside.
 */
export class ReceiveQueueProbe {
  private readonly token = randomBytes(TOKEN_BYTES);
  private inFlightSince: number | undefined;
  private lastSentAt = -Infinity;
  private lastDelayMs = 0;

  constructor(private readonly sendToSelf: (probe: Buffer) => void) {}

  /**
   * The queueing delay now, ms: the last probe's, or the age of the one still queued when that is longer (a growing
   * queue shows before its probe is read). Sends the next probe when none is on its way and the last went out at
   * least PROBE_EVERY_MS ago.
   */
  delayMs(now = performance.now()): number {
    const due = this.inFlightSince === undefined ? now - this.lastSentAt >= PROBE_EVERY_MS : now - this.inFlightSince > LOST_AFTER_MS;
    if (due) {
      const probe = Buffer.allocUnsafe(PROBE_BYTES);
      this.token.copy(probe);
      probe.writeDoubleLE(now, TOKEN_BYTES);
      this.inFlightSince = now;
      this.lastSentAt = now;
      this.sendToSelf(probe);
    }
    return this.inFlightSince === undefined ? this.lastDelayMs : Math.max(this.lastDelayMs, now - this.inFlightSince);
  }

  /** Takes `data` if it is one of this process's probes (then it is not SIP), noting its delay. */
  take(data: Buffer, now = performance.now()): boolean {
    if (data.length !== PROBE_BYTES || data.compare(this.token, 0, TOKEN_BYTES, 0, TOKEN_BYTES) !== 0) return false;
    const sentAt = data.readDoubleLE(TOKEN_BYTES);
    this.lastDelayMs = now - sentAt;
    if (sentAt === this.inFlightSince) this.inFlightSince = undefined;
    return true;
  }
}
