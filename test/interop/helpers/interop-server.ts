// presenced for the interop suite: the integration dialplan, on the suite's fixed port, UDP and TCP.
import { readFileSync } from 'node:fs';
import { publish } from '../../helpers/publish.js';
import { startServer } from '../../helpers/server.js';
import { UdpSipClient } from '../../helpers/sip-client.js';
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

/** The device walk of Custom:2000, the one device of `exten => 2000,hint,Custom:2000` in blf.conf: each a change. */
export const DEVICE_WALK = ['INUSE', 'RINGING', 'ONHOLD', 'BUSY', 'UNAVAILABLE', 'NOT_INUSE'] as const;
export type DeviceStateName = (typeof DEVICE_WALK)[number];

/** A hint with a device (fixtures/integration/blf.conf), watched while its device changes. */
const DEVICE_EXTENSION = '2000';
export const DEVICE_URI = `sip:${DEVICE_EXTENSION}@${HOST}:${SIP_PORTS.server}`;

/** presenced on the suite's port; `dialplan` blf.conf serves the device hint. */
export function startInteropServer(dialplan: 'presence' | 'blf' = 'presence'): Promise<PresenceServer> {
  const address = `${HOST}:${SIP_PORTS.server}`;
  return startServer({ config: `fixtures/integration/${dialplan}.conf`, udp: address, tcp: address });
}

/** `devicestate change Custom:2000 <state>`, failing the test if the program does. */
export async function changeDevice(server: PresenceServer, state: DeviceStateName): Promise<void> {
  const result = await server.devicestate(['change', `Custom:${DEVICE_EXTENSION}`, state]);
  if (result.code !== 0) throw new Error(`devicestate change ${state} failed (${result.code}): ${result.stderr}${result.stdout}`);
}

/** `presencestate change CustomPresence:2000 <value>`, failing the test if the CLI does. */
export async function changeState(server: PresenceServer, state: PresenceStateName): Promise<void> {
  const result = await server.cli(['change', `CustomPresence:${WATCHED_EXTENSION}`, stateValue(state)]);
  if (result.code !== 0) throw new Error(`presencestate change ${state} failed (${result.code}): ${result.stderr}${result.stdout}`);
}

/**
 * A phone PUBLISHing its calls for the device extension (`Event: dialog`, fixtures/dialog-publish/<fixture>.xml):
 * the published dialogs are one more device of its hint. Resolves with how to remove the publication.
 */
export async function publishDialogs(fixture: string): Promise<{ remove(): Promise<void> }> {
  const phone = await UdpSipClient.open(SIP_PORTS.server);
  const options = { user: DEVICE_EXTENSION, event: 'dialog', contentType: 'application/dialog-info+xml' };
  const body = readFileSync(`fixtures/dialog-publish/${fixture}.xml`, 'utf8').replaceAll('sip:2000@pbx.example.com', `sip:${DEVICE_EXTENSION}@${HOST}`);
  const published = await publish(phone, { ...options, body });
  if (published.status !== 200) throw new Error(`dialog PUBLISH answered ${published.status} ${published.reason}`);
  return {
    async remove() {
      const removed = await publish(phone, { ...options, etag: published.header('SIP-ETag')!, expires: 0 });
      await phone.close();
      if (removed.status !== 200) throw new Error(`dialog PUBLISH removal answered ${removed.status} ${removed.reason}`);
    },
  };
}
