// Device changes across two presenced daemons sharing a real redis-server: a `devicestate change` or a dialog PUBLISH
// made on one node reaches the BLF (dialog) and presence watchers subscribed on the other, through the change bus,
// and a node whose bus connection was cut re-reads what it missed (docs/CLUSTER.md).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { dialogInfoSchemaErrors, parseDialogInfo } from '../helpers/dialog-info.js';
import { publish } from '../helpers/publish.js';
import { useTwoNodes } from '../helpers/cluster.js';
import type { PresenceServer } from '../helpers/server.js';
import type { UdpSipClient, WatcherDialog } from '../helpers/sip-client.js';
import { parsePidf, type SipMessage } from '../helpers/wire.js';

const DIALOG_INFO = 'application/dialog-info+xml';

function dialogState(notify: SipMessage): { state: string; direction: string | undefined } {
  expect(dialogInfoSchemaErrors(notify.body), notify.body).to.equal('');
  const { state, direction } = parseDialogInfo(notify.body).dialogs[0]!;
  return { state, direction };
}

describe('integration: device changes across two nodes on one Redis', function () {
  this.timeout(60000);
  const nodes = useTwoNodes('fixtures/integration/blf.conf');

  async function lamp(client: UdpSipClient, user: string): Promise<WatcherDialog> {
    const dialog = await client.subscribeDialog({ user, set: { Event: 'dialog', Accept: DIALOG_INFO } });
    expect(dialogState(await dialog.nextNotify()).state).to.equal('terminated');
    return dialog;
  }

  async function hintState(server: PresenceServer, exten: string): Promise<string> {
    const line = (await server.cli(['hints'])).stdout.split('\n').find((candidate) => candidate.startsWith(`${exten}@default`)) ?? '';
    return /State:(\S+)/.exec(line)?.[1] ?? '';
  }

  it('sends a devicestate change made on node A to a dialog watcher on node B, and B lists the new state', async function () {
    const { nodeA, nodeB, clientB } = nodes();
    const onB = await lamp(clientB, '2000');
    const presenceOnB = await clientB.subscribeDialog({ user: '5000' });
    await presenceOnB.nextNotify();
    const changed = await nodeA.devicestate(['change', 'Custom:2000', 'RINGING']);
    expect(changed.code, changed.stderr).to.equal(0);
    expect(dialogState(await onB.nextNotify())).to.deep.equal({ state: 'early', direction: 'recipient' });
    expect(await hintState(nodeB, '2000')).to.equal('Ringing');
    expect((await nodeB.devicestate(['list'])).stdout).to.contain("--- Name: 'Custom:2000'  State: 'RINGING'");

    expect((await nodeA.devicestate(['change', 'custom:5000', 'INUSE'])).code).to.equal(0);
    expect(parsePidf((await presenceOnB.nextNotify()).body).notes, 'presence watchers on B follow the device too').to.deep.equal(['On the phone']);
    expect((await nodeA.devicestate(['change', 'Custom:5000', 'NOT_INUSE'])).code).to.equal(0);
    await presenceOnB.nextNotify();

    expect((await nodeB.devicestate(['change', 'Custom:2000', 'NOT_INUSE'])).code, 'and back, from B').to.equal(0);
    expect(dialogState(await onB.nextNotify()).state).to.equal('terminated');
    expect(await hintState(nodeA, '2000')).to.equal('Idle');
  });

  it('sends dialogs PUBLISHed to node B to a dialog watcher on node A, and their removal', async function () {
    const { nodeA, clientA, clientB } = nodes();
    const onA = await lamp(clientA, '2001');
    const body = readFileSync('fixtures/dialog-publish/kamailio-confirmed.xml', 'utf8');
    const published = await publish(clientB, { user: '2001', event: 'dialog', contentType: DIALOG_INFO, body });
    expect(published.status).to.equal(200);
    expect(dialogState(await onA.nextNotify()).state).to.equal('confirmed');
    expect(await hintState(nodeA, '2001')).to.equal('InUse');
    const removed = await publish(clientB, { user: '2001', event: 'dialog', etag: published.header('SIP-ETag')!, expires: 0 });
    expect(removed.status).to.equal(200);
    expect(dialogState(await onA.nextNotify()).state).to.equal('terminated');
    expect(nodeA.stderr()).to.not.match(/uncaught|unhandled/i);
  });

  it('re-reads the device states and dialogs it missed while its bus connection was cut, and notifies its watchers', async function () {
    const { redis, nodeA, nodeB, clientA, clientB } = nodes();
    const customOnB = await lamp(clientB, '2000');
    const publishedOnB = await lamp(clientB, '2001');
    // B stands still while Redis closes its subscription, so the changes A makes meanwhile never reach it on the bus.
    nodeB.signal('SIGSTOP');
    try {
      await redis.cutSubscribers();
      expect((await nodeA.devicestate(['change', 'Custom:2000', 'INUSE'])).code).to.equal(0);
      const body = readFileSync('fixtures/dialog-publish/kamailio-confirmed.xml', 'utf8');
      expect((await publish(clientA, { user: '2001', event: 'dialog', contentType: DIALOG_INFO, body })).status).to.equal(200);
    } finally {
      nodeB.signal('SIGCONT');
    }
    expect(dialogState(await customOnB.nextNotify(15000)).state).to.equal('confirmed');
    expect(dialogState(await publishedOnB.nextNotify(15000)).state).to.equal('confirmed');
    expect(await hintState(nodeB, '2000')).to.equal('InUse');
    expect(nodeB.stderr()).to.not.match(/uncaught|unhandled/i);
  });
});
