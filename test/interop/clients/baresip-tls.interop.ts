// baresip over SIP over TLS (RFC 3261 §26): it opens a TLS connection to presenced's --tls listener, subscribes on it
// and shows the states presencestate sets, from NOTIFYs that come back on that same connection.
import { expect } from 'chai';
import { makeTempDir, removeDir, startServer, type PresenceServer } from '../../helpers/server.js';
import { makeCertificate } from '../../helpers/tls.js';
import { Baresip } from '../helpers/baresip.js';
import { changeState } from '../helpers/interop-server.js';
import { HOST, SIP_PORTS, TLS_PORTS } from '../helpers/ports.js';

const WATCHED_TLS_URI = `sip:2000@${HOST}:${TLS_PORTS.server};transport=tls`;
const NOTIFY_TIMEOUT_MS = 5000;

describe('interop: baresip over TLS', function () {
  let dir: string;
  let server: PresenceServer;
  let baresip: Baresip;

  before(async function () {
    dir = await makeTempDir('presenced-interop-tls-');
    const certificate = await makeCertificate(dir, 'pbx', ['pbx.example.test']);
    const address = `${HOST}:${SIP_PORTS.server}`;
    server = await startServer({
      config: 'fixtures/integration/presence.conf',
      udp: address,
      tcp: address,
      args: ['--tls', `${HOST}:${TLS_PORTS.server}`, '--tls-cert', certificate.cert, '--tls-key', certificate.key],
    });
    baresip = await Baresip.start([{ name: 'Desk', uri: WATCHED_TLS_URI }]);
    await baresip.waitForAnsweredNotifies(1, NOTIFY_TIMEOUT_MS);
  });

  after(async function () {
    await baresip?.stop();
    await server?.stop();
    if (dir) await removeDir(dir);
  });

  it('subscribes over TLS and gets the NOTIFY on its own TLS connection (Via TLS)', async function () {
    const trace = baresip.transcript();
    const subscribe = new RegExp(`^TLS ${HOST}:(\\d+) -> ${HOST}:${TLS_PORTS.server}\\s*\\nSUBSCRIBE `, 'm').exec(trace);
    expect(subscribe, trace).to.not.equal(null);
    const notify = new RegExp(`^TLS ${HOST}:${TLS_PORTS.server} -> ${HOST}:${subscribe![1]}\\s*\\nNOTIFY [^\\n]*\\nVia: SIP/2\\.0/TLS `, 'm');
    expect(notify.test(trace), trace).to.equal(true);
    expect((await baresip.contacts()).map(({ uri, status }) => ({ uri, status }))).to.deep.equal([{ uri: WATCHED_TLS_URI, status: 'Offline' }]);
  });

  const walk = [['available', 'Online'], ['dnd', 'Busy'], ['unavailable', 'Offline']] as const;
  for (const [index, [state, shows]] of walk.entries()) {
    it(`shows ${shows} for ${state}`, async function () {
      await changeState(server, state);
      await baresip.waitForAnsweredNotifies(index + 2, NOTIFY_TIMEOUT_MS);
      const [contact] = await baresip.contacts();
      expect(contact?.status, baresip.transcript()).to.equal(shows);
    });
  }
});
