// List NOTIFY bodies (RFC 4662): how long a 100-member list's full-state body takes to build with every member part
// rendered (cold), after one member changed (one part rendered, 99 from the cache), and the partial-state body of that
// change (full_state=no: the one changed part and a one-resource RLMI root). In process, no sockets.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResourceListPackage } from '../lib/lists/list-package.js';
import type { ResourceList } from '../lib/lists/resource-lists.js';
import { HintDirectory } from '../lib/presence/hint-directory.js';
import type { DeviceService } from '../lib/devices/device-service.js';
import { PresencePackage } from '../lib/presence/presence-package.js';
import type { PresenceService } from '../lib/presence/presence-service.js';
import type { PresenceState } from '../lib/presence/state.js';
import { UDP } from '../lib/sip/transport.js';
import { createSubscription } from '../lib/subscriptions/subscription.js';
import { createLogger } from '../lib/util/log.js';
import type { Figure } from './lib/figure.js';

const MEMBERS = 100;
const AWAY: PresenceState = { state: 'away', subtype: 'meeting', message: 'In a meeting' };
const ROUNDS = 200;
/** Targets: a cold build under 50 µs a member; after a one-member change, well under the cold build. */
const COLD_TARGET_US = 5000;
const CHANGED_TARGET_US = 1500;
/** A partial NOTIFY carries one part: its cost must not grow with the list. */
const PARTIAL_TARGET_US = 150;

export async function benchListBuild(): Promise<Figure<{ coldUs: number; changedUs: number; partialUs: number; members: number }>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'presenced-bench-lists-'));
  try {
    const dialplan = path.join(dir, 'extensions.conf');
    const members = Array.from({ length: MEMBERS }, (_, i) => String(3000 + i));
    await writeFile(dialplan, `[default]\n${members.map((m) => `exten => ${m},hint,PJSIP/${m},CustomPresence:${m}`).join('\n')}\n`);
    const hints = new HintDirectory({ file: dialplan, context: 'default', log: createLogger('error') });
    // Every member away: the real PIDF renderer, without a store behind it.
    const presence = { stateOf: () => AWAY } as unknown as PresenceService;
    // Every member's phone idle: device state without a store behind it either.
    const devices = { devicesOf: () => [], extensionState: () => 'Idle' } as unknown as DeviceService;
    const inner = new PresencePackage(presence, devices, () => undefined);
    const list: ResourceList = { name: 'big', event: 'presence', members, fullState: false, batchMs: 0, file: dialplan, line: 1 };
    const lists = new ResourceListPackage(inner, new Map([['big', list]]), hints);
    const hint = lists.resolve(hints.current, 'big', 'default')!;
    const subscription = createSubscription({
      callId: 'bench', localTag: 'bench', localIdentity: '<sip:big@pbx>', remoteIdentity: '<sip:w@pbx>;tag=w', remoteTarget: 'sip:w@127.0.0.1',
      routeSet: [], localCseq: 0, cseqCeiling: 100, remoteCseq: 1, eventId: undefined,
      flow: { kind: UDP, remoteHost: '127.0.0.1', remotePort: 5070, localHost: '127.0.0.1', localPort: 5060 },
      localContact: 'sip:127.0.0.1:5060', sentBy: '127.0.0.1:5060', userAgent: '', presentity: 'sip:big@pbx', digium: false,
      eventPackage: lists, format: lists.bodyTypes[0]!, bodyVersion: 0, exten: 'big', context: 'default', hint, expiresAt: 0,
    });
    let bytes = 0;
    let cold = 0;
    let changed = 0;
    let partial = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const member of members) lists.stateChanged(`CustomPresence:${member}`);
      let started = performance.now();
      bytes += lists.render(subscription).length;
      cold += performance.now() - started;
      lists.stateChanged(`CustomPresence:${members[round % MEMBERS]}`);
      started = performance.now();
      bytes += lists.render(subscription).length;
      changed += performance.now() - started;
      // The next member changes; its partial NOTIFY is built first, as a watcher that heard the last change gets it.
      const key = `CustomPresence:${members[(round + 1) % MEMBERS]}`;
      lists.stateChanged(key);
      started = performance.now();
      bytes += lists.renderChanges(subscription, (changedKey) => changedKey === key)!.length;
      partial += performance.now() - started;
    }
    if (bytes === 0) throw new Error('built nothing');
    const coldUs = Math.round((cold * 1000) / ROUNDS);
    const changedUs = Math.round((changed * 1000) / ROUNDS);
    const partialUs = Math.round((partial * 1000) / ROUNDS);
    return {
      line: `list NOTIFY build (${MEMBERS} members): ${coldUs} µs full, ${changedUs} µs full after a one-member change, ${partialUs} µs partial (that one member)`,
      target: `≤ ${COLD_TARGET_US} µs full, ≤ ${CHANGED_TARGET_US} µs after a change, ≤ ${PARTIAL_TARGET_US} µs partial`,
      met: coldUs <= COLD_TARGET_US && changedUs <= CHANGED_TARGET_US && partialUs <= PARTIAL_TARGET_US,
      details: { coldUs, changedUs, partialUs, members: MEMBERS },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await benchListBuild()).line);
}
