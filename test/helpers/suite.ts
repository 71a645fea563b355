// Mocha setup shared by the integration suites: a daemon per describe, clients per test or per describe, and the
// same tests run once per transport. Each helper registers its hooks in the describe it is called from and returns
// an accessor, valid inside tests and hooks that run after its own.
import { startServer } from './server.js';
import type { PresenceServer, ServerOptions } from './server.js';
import { openClient } from './sip-client.js';
import type { SipClient, Transport } from './sip-client.js';

/** Both transports, in the order their describes appear. */
export const TRANSPORTS: readonly Transport[] = ['UDP', 'TCP'];

/** Anything a suite opens and must close again: a client, or a watcher's own listener. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Opens something in `setup` (before / beforeEach) of the current describe and releases it in `teardown` (after /
 * afterEach); the accessor fails clearly when read before it was opened.
 */
function hold<T>(
  what: string,
  setup: Mocha.HookFunction,
  open: () => Promise<T>,
  teardown: Mocha.HookFunction,
  release: (value: T) => Promise<unknown>,
): () => T {
  let value: T | undefined;
  setup(async function () {
    value = undefined;
    value = await open();
  });
  teardown(async function () {
    if (value !== undefined) await release(value);
  });
  return () => {
    if (value === undefined) throw new Error(`${what} is not open here (used outside a test, or its hook failed)`);
    return value;
  };
}

/** Starts presenced before the tests of the current describe and stops it after them. */
export function useServer(options?: ServerOptions): () => PresenceServer {
  return hold('the server', before, () => startServer(options), after, (server) => server.stop());
}

/** Opens a fresh client (or listener) before each test of the current describe and closes it after the test. */
export function useClient<C extends Closable>(open: () => Promise<C>): () => C {
  return hold('the client', beforeEach, open, afterEach, (client) => client.close());
}

/** Opens one client (or listener) before the tests of the current describe and closes it after all of them. */
export function useSharedClient<C extends Closable>(open: () => Promise<C>): () => C {
  return hold('the shared client', before, open, after, (client) => client.close());
}

/**
 * Runs `body` once per transport, each in its own `describe('over UDP' | 'over TCP')` with a fresh client of that
 * transport to `server` for every test.
 */
export function forEachTransport(
  server: () => PresenceServer,
  body: (client: () => SipClient, transport: Transport) => void,
  transports: readonly Transport[] = TRANSPORTS,
): void {
  for (const transport of transports) {
    describe(`over ${transport}`, function () {
      const client = useClient(() => openClient(transport, server()));
      body(client, transport);
    });
  }
}
