// D7: when a watcher's TCP connection is gone, presenced connects again only to the address the subscription came
// from, never to one of its own listening addresses, whatever the Contact says.
import { expect } from 'chai';
import { useServer } from '../helpers/suite.js';
import { eventually, TcpSipClient, TcpSipListener } from '../helpers/sip-client.js';

describe('integration: outgoing TCP connections (D7)', function () {
  this.timeout(20000);
  const server = useServer({ amiConfig: 'fixtures/ami/manager.conf' });

  async function subscribeThenHangUp(contact: string, user: string): Promise<void> {
    const client = await TcpSipClient.connect(server().tcpPort);
    const dialog = await client.subscribeDialog({ user, set: { Contact: contact } });
    await dialog.nextNotify();
    await client.close();
  }

  it('never connects to a Contact on another host: only to the address the SUBSCRIBE came from', async function () {
    const victim = await TcpSipListener.open(server().tcpPort, '127.0.0.2');
    try {
      await subscribeThenHangUp(`<sip:w@127.0.0.2:${victim.port};transport=tcp>`, '7000');
      const change = await server().cli(['change', 'CustomPresence:7000', 'away']);
      expect(change.code, change.stderr).to.equal(0);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(victim.connections).to.have.length(0);
    } finally {
      await victim.close();
    }
  });

  it('opens at most 10 new connections to one address in 10 s, however many watchers there lost their connection', async function () {
    const host = '127.0.0.3';
    const listeners = await Promise.all(Array.from({ length: 12 }, () => TcpSipListener.open(server().tcpPort, host)));
    try {
      for (const listener of listeners) {
        const client = await TcpSipClient.connect(server().tcpPort, host);
        const dialog = await client.subscribeDialog({ user: '6002', set: { Contact: `<sip:w@${host}:${listener.port};transport=tcp>` } });
        await dialog.nextNotify();
        await client.close();
      }
      const change = await server().cli(['change', 'CustomPresence:6002', 'away']);
      expect(change.code, change.stderr).to.equal(0);
      await eventually(() => server().stderr().includes(`not connecting to ${host} again: 10 new connections in 10 s`), 8000, 'the held-back connection in the log');
      const opened = (): number => listeners.reduce((sum, listener) => sum + listener.connections.length, 0);
      await eventually(() => opened() === 10, 8000, 'ten connections opened');
      // Nothing more comes within the window: the other two watchers are not dialled.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(opened()).to.equal(10);
    } finally {
      await Promise.all(listeners.map((listener) => listener.close()));
    }
  });

  it("never connects to one of presenced's own listening addresses (the AMI port)", async function () {
    await subscribeThenHangUp(`<sip:w@127.0.0.1:${server().amiPort};transport=tcp>`, '2000');
    const change = await server().cli(['change', 'CustomPresence:2000', 'dnd']);
    expect(change.code, change.stderr).to.equal(0);
    await eventually(() => server().stderr().includes(`not connecting to 127.0.0.1:${server().amiPort}: it is one of presenced's own listening addresses`), 8000, 'the refused connection in the log');
  });
});
