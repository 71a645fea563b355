/**
 * The control socket's protocol: one JSON object per line each way, one request per connection.
 * Kept in one file so the daemon and the CLI cannot drift apart.
 */
export type ControlRequest =
  | { command: 'change'; entity: string; value: string }
  | { command: 'list' }
  | { command: 'hints'; exten?: string }
  | { command: 'subscriptions'; resource?: string }
  | { command: 'subscription-kick'; id: string }
  | { command: 'publications' }
  | { command: 'publication-remove'; etag: string }
  | { command: 'reload' }
  | { command: 'stats' }
  | { command: 'device-change'; device: string; state: string }
  | { command: 'device-list' };

export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string; code?: string };

export const CONTROL_SOCKET = 'presenced.sock';
/** Requests are tiny; anything larger is not a client of ours. */
export const MAX_CONTROL_REQUEST = 64 * 1024;
