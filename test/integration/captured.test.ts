// SUBSCRIBEs captured from real clients, replayed against the server.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { UdpSipClient } from '../helpers/sip-client.js';
import { useServer, useSharedClient } from '../helpers/suite.js';
import { normaliseUri, parsePidf, subscriptionState, uriOf } from '../helpers/wire.js';

const CAPTURES = ['baresip-subscribe.sip', 'linphonec-subscribe.sip', 'sipp-subscribe.sip'];

/** Points a capture at our server and extension 6002, with Via and Contact naming the replaying socket. */
function retarget(capture: string, serverPort: number, localPort: number): string {
  return capture
    .replace(/^SUBSCRIBE sip:[^@\s]+@[^:;\s]+(?::\d+)?/, `SUBSCRIBE sip:6002@127.0.0.1:${serverPort}`)
    .replace(/^(Via:\s*SIP\/2\.0\/UDP 127\.0\.0\.1:)\d+/m, `$1${localPort}`)
    .replace(/^(Contact:\s*<sip:(?:[^@>]*@)?127\.0\.0\.1:)\d+/m, `$1${localPort}`);
}

describe('integration: captured SUBSCRIBEs', function () {
  const server = useServer();
  const client = useSharedClient(() => UdpSipClient.open(server().udpPort));

  for (const capture of CAPTURES) {
    it(`accepts ${capture} and notifies its Contact`, async function () {
      const request = retarget(readFileSync(path.resolve(process.cwd(), 'fixtures/sip', capture), 'utf8'), server().udpPort, client().localPort);
      const callId = /^Call-ID:\s*(\S+)/m.exec(request)?.[1];
      const contact = uriOf(/^Contact:\s*(.*)$/m.exec(request)?.[1] ?? '');
      expect(contact).to.include(`:${client().localPort}`);

      const response = await client().request(request);
      expect(response.status).to.equal(200);
      const notify = await client().waitFor((message) => message.method === 'NOTIFY' && message.callId === callId);
      expect(normaliseUri(notify.requestUri ?? '')).to.equal(normaliseUri(contact));
      expect(subscriptionState(notify).state).to.equal('active');
      expect(parsePidf(notify.body).entity).to.equal('sip:6002@127.0.0.1');
    });
  }
});
