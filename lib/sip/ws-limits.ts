/** WebSocket transport limits, apart from the transport so that reading the options does not load the ws package. */
export interface WsLimits {
  /** Largest frame (one SIP message) accepted; a larger one closes the connection (1009). */
  maxFrameBytes: number;
  /** Connections open at once, and from one address; further upgrades get 503. */
  maxConnections: number;
  maxPerAddress: number;
  /** A connection with no SIP traffic for this long is closed unless subscriptions pin it. */
  idleTimeoutMs: number;
  /** A ping goes out this often; a connection whose last ping went unanswered is dropped. */
  pingIntervalMs: number;
  /** Bytes queued to a peer that does not read; past this the connection is dropped (backpressure). */
  maxQueuedBytes: number;
}

export const DEFAULT_WS_LIMITS: WsLimits = {
  maxFrameBytes: 64 * 1024,
  maxConnections: 10_000,
  maxPerAddress: 100,
  idleTimeoutMs: 600_000,
  pingIntervalMs: 30_000,
  maxQueuedBytes: 1024 * 1024,
};
