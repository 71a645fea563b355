// presenced for the interop suite: the integration dialplan, on the suite's fixed port, UDP and TCP.
import { startServer } from '../../helpers/server.js';
import type { PresenceServer } from '../../helpers/server.js';
import { HOST, SIP_PORTS } from './ports.js';

/**
 * The seven presence states, in the order the client tests set them. The watched provider starts as not_set, so
 * every step is a real change (one NOTIFY each), and the walk ends going back from open to closed.
 */
export const STATE_WALK = ['available', 'away', 'xa', 'chat', 'dnd', 'unavailable', 'not_set'] as const;
export type PresenceStateName = (typeof STATE_WALK)[number];

/** A presence-only hint (`exten => 2000,hint,,CustomPresence:2000`), so basic follows the presence state. */
const WATCHED_EXTENSION = '2000';
export const WATCHED_URI = `sip:${WATCHED_EXTENSION}@${HOST}:${SIP_PORTS.server}`;

/** The value each state is set to: a subtype and a message, as an admin would type them. */
function stateValue(state: PresenceStateName): string {
  return state === 'not_set' ? 'not_set' : `${state},interop,Interop ${state}`;
}

export function startInteropServer(): Promise<PresenceServer> {
  const address = `${HOST}:${SIP_PORTS.server}`;
  return startServer({ config: 'fixtures/integration/presence.conf', udp: address, tcp: address });
}

/** `presencestate change CustomPresence:2000 <value>`, failing the test if the CLI does. */
export async function changeState(server: PresenceServer, state: PresenceStateName): Promise<void> {
  const result = await server.cli(['change', `CustomPresence:${WATCHED_EXTENSION}`, stateValue(state)]);
  if (result.code !== 0) throw new Error(`presencestate change ${state} failed (${result.code}): ${result.stderr}${result.stdout}`);
}
