// The NOTIFYs of a subscription dialog: addressing, headers, CSeq and in-dialog SUBSCRIBEs (RFC 6665 §4.2.2,
// RFC 3261 §12.2.1).
import dgram from 'node:dgram';
import { expect } from 'chai';
import { eventually, newCallId, newTag, UdpSipClient } from '../helpers/sip-client.js';
import type { WatcherDialog } from '../helpers/sip-client.js';
import { forEachTransport, useClient, useServer } from '../helpers/suite.js';
import { eventHeader, normaliseUri, parsePidf, parseVia, subscriptionState, uriOf } from '../helpers/wire.js';
import type { SipMessage } from '../helpers/wire.js';

/** A local UDP port nobody listens on, standing in for the private side of a NAT. */
async function unusedPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function accepted(result: { response: SipMessage; dialog?: WatcherDialog }): WatcherDialog {
  expect(result.response.status).to.equal(200);
  if (!result.dialog) throw new Error('the 200 to the SUBSCRIBE has no To tag');
  return result.dialog;
}

describe('integration: NOTIFY', function () {
  const server = useServer();

  forEachTransport(server, (client, transport) => {
    it('sends the initial NOTIFY to the Contact with the dialog identifiers of the 200', async function () {
      const fromTag = newTag();
      const callId = newCallId();
      const contact = `sip:initial@127.0.0.1:${client().localPort}${transport === 'TCP' ? ';transport=tcp' : ''}`;
      const result = await client().subscribe({ fromUser: 'initial', fromTag, callId, expires: 600, set: { Contact: `<${contact}>` } });
      const dialog = accepted(result);
      const notify = await dialog.nextNotify();

      expect(normaliseUri(notify.requestUri ?? '')).to.equal(normaliseUri(contact));
      expect(notify.fromUri).to.equal(normaliseUri(`sip:6002@127.0.0.1:${client().serverPort}`));
      expect(notify.fromTag).to.equal(result.response.toTag);
      expect(notify.toUri).to.equal(normaliseUri('sip:initial@127.0.0.1'));
      expect(notify.toTag).to.equal(fromTag);
      expect(notify.callId).to.equal(callId);
      expect(notify.cseq?.method).to.equal('NOTIFY');
      expect(eventHeader(notify).event).to.equal('presence');
      const state = subscriptionState(notify);
      expect(state.state).to.equal('active');
      expect(state.expires).to.be.above(0).and.at.most(Number(result.response.header('Expires')));
      expect(notify.header('Content-Type')?.toLowerCase()).to.match(/^application\/pidf\+xml\b/);
      expect(notify.hasHeader('Contact'), 'Contact').to.equal(true);
      expect(notify.hasHeader('Max-Forwards'), 'Max-Forwards').to.equal(true);
      expect(parseVia(notify.headerValues('Via')[0]).branch).to.match(/^z9hG4bK/);
      expect(parsePidf(notify.body).entity).to.equal('sip:6002@127.0.0.1');
    });

    it('sends the NOTIFY to where the SUBSCRIBE came from when the Contact is unreachable (NAT)', async function () {
      const privatePort = await unusedPort();
      const transportParam = transport === 'TCP' ? ';transport=tcp' : '';
      const result = await client().subscribe({
        fromUser: 'natted',
        set: {
          Via: `SIP/2.0/${transport} 127.0.0.1:${privatePort};branch=z9hG4bK${newTag()};rport`,
          Contact: `<sip:natted@127.0.0.1:${privatePort}${transportParam}>`,
        },
      });
      const notify = await accepted(result).nextNotify();
      expect(normaliseUri(notify.requestUri ?? '')).to.equal(normaliseUri(`sip:natted@127.0.0.1:${privatePort}${transportParam}`));
    });

    it('echoes the Event id parameter (RFC 6665 §8.2.1)', async function () {
      const dialog = accepted(await client().subscribe({ set: { Event: 'presence;id=7' } }));
      const event = eventHeader(await dialog.nextNotify());
      expect(event.event).to.equal('presence');
      expect(event.params.id).to.equal('7');
    });

    it('raises the NOTIFY CSeq by exactly one per NOTIFY', async function () {
      const dialog = accepted(await client().subscribe({ user: '7000', userAgent: 'Digium D65' }));
      const first = (await dialog.nextNotify()).cseq?.seq ?? NaN;
      const change = await server().cli(['change', 'CustomPresence:7000', `away,,cseq-${transport}`]);
      expect(change.code, change.stderr).to.equal(0);
      expect((await dialog.nextNotify()).cseq?.seq).to.equal(first + 1);
      expect((await dialog.refresh({ expires: 600 })).status).to.equal(200);
      expect((await dialog.nextNotify()).cseq?.seq).to.equal(first + 2);
    });

    it('refreshes with an in-dialog SUBSCRIBE: 200 with Expires and a full-state NOTIFY', async function () {
      const dialog = accepted(await client().subscribe({ expires: 600 }));
      await dialog.nextNotify();
      const refresh = await dialog.refresh({ expires: 900 });
      expect(refresh.status).to.equal(200);
      expect(refresh.header('Expires')).to.equal('900');
      const notify = await dialog.nextNotify();
      expect(subscriptionState(notify).state).to.equal('active');
      expect(parsePidf(notify.body).tuples.map((tuple) => tuple.id)).to.include('6002');
    });

    it('ends the subscription on an in-dialog SUBSCRIBE with Expires: 0', async function () {
      const dialog = accepted(await client().subscribe({ expires: 600 }));
      await dialog.nextNotify();
      expect((await dialog.refresh({ expires: 0 })).status).to.equal(200);
      const notify = await dialog.nextNotify();
      expect(subscriptionState(notify)).to.include({ state: 'terminated', reason: 'timeout' });
    });

    it('answers a SUBSCRIBE with an unknown To tag with 481', async function () {
      const dialog = accepted(await client().subscribe());
      await dialog.nextNotify();
      const response = await client().request(
        client().buildSubscribe({ callId: dialog.callId, fromTag: dialog.fromTag, toTag: 'no-such-tag', cseq: 2 }),
      );
      expect(response.status).to.equal(481);
    });

    it('answers a SUBSCRIBE with a To tag and an unknown Call-ID with 481', async function () {
      const response = await client().request(client().buildSubscribe({ toTag: newTag() }));
      expect(response.status).to.equal(481);
    });
  });

  describe('over UDP only', function () {
    const client = useClient(() => UdpSipClient.open(server().udpPort));

    it('copies the Record-Route values of the SUBSCRIBE into its 200 and into Route of NOTIFYs, in order (RFC 3261 §12.1.1)', async function () {
      const recordRoute = [`<sip:127.0.0.1:${client().localPort};lr;ftag=first>`, '<sip:proxy2.invalid;lr>'];
      const subscribed = await client().subscribe({ set: { 'Record-Route': recordRoute.join(', ') } });
      const dialog = accepted(subscribed);
      expect(subscribed.response.headerValues('Record-Route')).to.deep.equal(recordRoute);
      const notify = await dialog.nextNotify();
      expect(notify.headerValues('Route').map(uriOf)).to.deep.equal(recordRoute.map(uriOf));
      // A refresh is inside the dialog: its 200 creates nothing, so it carries no Record-Route.
      const refreshed = await dialog.refresh({ set: { 'Record-Route': recordRoute.join(', ') } });
      expect(refreshed.headerValues('Record-Route')).to.deep.equal([]);
    });

    it('retransmits a NOTIFY nobody answers (RFC 3261 §17.1.2.2)', async function () {
      client().autoAnswerNotify = false;
      const dialog = accepted(await client().subscribe());
      const notify = await dialog.nextNotify();
      await eventually(() => client().retransmissions > 0, 5000, 'a retransmitted NOTIFY');
      await client().respond(notify, 200, 'OK');
    });
  });
});
