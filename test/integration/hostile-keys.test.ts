// D5: names that are JavaScript object properties, sent wherever input picks an entry of a table: RPID activities
// in a PUBLISH, Request-URI users, AMI actions and headers. None may find Object.prototype's members.
import { expect } from 'chai';
import { effectivePresence, publish, rpidBody } from '../helpers/publish.js';
import { RawAmi } from '../helpers/raw-ami.js';
import { UdpSipClient } from '../helpers/sip-client.js';
import { useServer, useSharedClient } from '../helpers/suite.js';

const PROPERTY_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];

for (const store of ['memory', 'sqlite']) {
  describe(`integration: object property names as input (D5), ${store} store`, function () {
    const server = useServer({ amiConfig: 'fixtures/ami/manager.conf', args: ['--store', store] });
    const client = useSharedClient(() => UdpSipClient.open(server().udpPort));

    for (const name of PROPERTY_NAMES) {
      it(`takes <rpid:${name}/> in a PUBLISH as an unknown activity`, async function () {
        const response = await publish(client(), { body: rpidBody(name) });
        // An unknown activity says nothing: the document's basic status (open) counts.
        expect(response.status, response.reason).to.equal(200);
        expect(await effectivePresence(server(), '6002')).to.equal('available');
        const etag = response.header('SIP-ETag')!;
        expect((await publish(client(), { etag, expires: 0 })).status).to.equal(200);
      });

      it(`answers a SUBSCRIBE to '${name}' with 404`, async function () {
        const { response } = await client().subscribe({ user: name });
        expect(response.status).to.equal(404);
      });
    }

    it('still answers AMI: the state, and unknown actions and headers named after object properties', async function () {
      expect((await publish(client(), { body: rpidBody('constructor') })).status).to.equal(200);
      const ami = await RawAmi.login(server().amiPort);
      try {
        const state = await ami.request(['Action: PresenceState', 'Provider: CustomPresence:6002']);
        expect(state.get('Response'), state.raw).to.equal('Success');
        expect(state.get('State')).to.equal('available');
        for (const name of PROPERTY_NAMES) {
          const unknown = await ami.request([`Action: ${name}`, `${name}: 1`]);
          expect(unknown.get('Message'), unknown.raw).to.equal(`Invalid/unknown command: ${name}. Use Action: ListCommands to show available commands.`);
          const header = await ami.request(['Action: PresenceState', `Provider: CustomPresence:${name}`, `${name}: x`]);
          expect(header.get('Response'), header.raw).to.equal('Success');
          expect(header.get('State')).to.equal('not_set');
        }
      } finally {
        ami.close();
      }
      const hints = await server().cli(['hints']);
      expect(hints.code, hints.stderr).to.equal(0);
    });
  });
}
