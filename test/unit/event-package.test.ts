// The event-package registry: Allow-Events, body types and PUBLISH dispatch come from what is registered.
import { expect } from 'chai';
import { EventPackages, type EventPackage } from '../../lib/subscriptions/event-package.js';
import { negotiate } from '../../lib/subscriptions/negotiate.js';
import { parseMessage } from '../../lib/sip/parser.js';
import type { SipRequest } from '../../lib/sip/message.js';
import type { IncomingRequest } from '../../lib/sip/stack.js';
import { UDP } from '../../lib/sip/transport.js';

function fakePackage(event: string, contentTypes: string[], publish?: EventPackage['publish']): EventPackage {
  return {
    event,
    bodyTypes: contentTypes.map((contentType) => ({ contentType })),
    counted: false,
    negotiate: (accept) => negotiate(accept, contentTypes.map((contentType) => ({ contentType }))),
    resolve: () => undefined,
    stateKeys: () => [],
    variantKey: () => '',
    render: () => '',
    ...(publish ? { publish } : {}),
  };
}

function publishRequest(event: string | undefined): SipRequest {
  const lines = [
    'PUBLISH sip:2000@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1',
    'From: <sip:2000@127.0.0.1>;tag=a',
    'To: <sip:2000@127.0.0.1>',
    'Call-ID: c1',
    'CSeq: 1 PUBLISH',
    ...(event === undefined ? [] : [`Event: ${event}`]),
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

describe('subscriptions/event-package', () => {
  const published: string[] = [];
  const packages = new EventPackages()
    .register(fakePackage('presence', ['application/pidf+xml', 'application/xpidf+xml'], ({ request }) => published.push(`presence ${request.uri}`)))
    .register(fakePackage('dialog', ['application/dialog-info+xml', 'application/pidf+xml']))
    .register(fakePackage('message-summary', ['application/simple-message-summary'], ({ request }) => published.push(`mwi ${request.uri}`)));

  it('lists the registered events and every body type once, in registration order', function () {
    expect(packages.events).to.deep.equal(['presence', 'dialog', 'message-summary']);
    expect(packages.bodyTypes).to.deep.equal(['application/pidf+xml', 'application/xpidf+xml', 'application/dialog-info+xml', 'application/simple-message-summary']);
    expect(packages.publishable).to.deep.equal(['presence', 'message-summary']);
    expect(packages.get('dialog')?.event).to.equal('dialog');
    expect(packages.get('Dialog')).to.equal(undefined);
  });

  it('routes a PUBLISH to its package and answers other events with 489 naming the publishable ones', function () {
    const answers: Array<{ status: number; allow: string | undefined }> = [];
    const incoming = (event: string | undefined): IncomingRequest => ({
      request: publishRequest(event),
      flow: { kind: UDP, remoteHost: '127.0.0.1', remotePort: 5070, localHost: '127.0.0.1', localPort: 5060 },
      respond: (answer, options) => {
        answers.push({ status: answer.status, allow: options?.headers?.find(([name]) => name === 'Allow-Events')?.[1] });
      },
    });
    packages.dispatchPublish(incoming('presence'));
    packages.dispatchPublish(incoming('message-summary;id=1'));
    expect(published).to.deep.equal(['presence sip:2000@127.0.0.1', 'mwi sip:2000@127.0.0.1']);
    for (const event of ['dialog', 'reg', undefined]) packages.dispatchPublish(incoming(event));
    expect(answers).to.deep.equal([
      { status: 489, allow: 'presence, message-summary' },
      { status: 489, allow: 'presence, message-summary' },
      { status: 489, allow: 'presence, message-summary' },
    ]);
  });

  it('negotiates within one package: its first type without Accept, 406 (undefined) for types it lacks', function () {
    const dialog = packages.get('dialog')!;
    expect(dialog.negotiate([])?.contentType).to.equal('application/dialog-info+xml');
    expect(dialog.negotiate(['application/pidf+xml'])?.contentType).to.equal('application/pidf+xml');
    expect(dialog.negotiate(['application/xpidf+xml'])).to.equal(undefined);
  });
});
