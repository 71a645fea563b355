// NOTIFYs follow the watcher's flow over TCP: keep-alives on it (RFC 5626 §4.4.1), and when the connection is gone a
// new one to the Contact (RFC 3261 §18.1.1). The UDP "NAT" case (Contact names one port, packets come from another)
// is in notify.test.ts, and a plain CRLFCRLF ping in tcp-framing.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { TcpSipClient, TcpSipListener } from '../helpers/sip-client.js';
import { useClient, useServer } from '../helpers/suite.js';
import { parsePidf } from '../helpers/wire.js';

describe('integration: reliability — TCP flows', function () {
  const server = useServer();
  const listener = useClient(() => TcpSipListener.open(server().tcpPort));
  const client = useClient(() => TcpSipClient.connect(server().tcpPort));

  async function change(value: string): Promise<void> {
    const result = await server().cli(['change', 'CustomPresence:7000', value]);
    expect(result.code, result.stderr).to.equal(0);
  }

  it('keeps NOTIFYs on the subscription connection, then connects to the Contact once it is closed', async function () {
    const contact = `<sip:tcp-watcher@127.0.0.1:${listener().port};transport=tcp>`;
    const dialog = await client().subscribeDialog({ fromUser: 'tcp-watcher', user: '7000', set: { Contact: contact } });
    const initial = await dialog.nextNotify();

    await client().send('\r\n\r\n');
    await client().waitForPongs(1);
    await change('away,,on the first connection');
    const onFirst = await dialog.nextNotify();
    expect(onFirst.cseq?.seq).to.equal((initial.cseq?.seq ?? NaN) + 1);
    expect(listener().connections, 'connections to the Contact while the first one is open').to.have.length(0);

    await client().close();
    // Let the server see the FIN before the next NOTIFY.
    await sleep(300);
    await change('dnd,,over a new connection');
    const reconnected = await listener().connection(0);
    const onContact = await dialog.nextNotify(5000, reconnected);
    expect(onContact.cseq?.seq, 'CSeq continues').to.equal((onFirst.cseq?.seq ?? NaN) + 1);
    expect(parsePidf(onContact.body).notes[0]).to.equal('over a new connection');

    await change('available,,same new connection');
    const reused = await dialog.nextNotify(5000, reconnected);
    expect(reused.cseq?.seq).to.equal((onContact.cseq?.seq ?? NaN) + 1);
    expect(listener().connections, 'the new connection is reused').to.have.length(1);
  });
});
