// RFC 5367 request-contained lists: the members of a resource-lists body (golden files in fixtures/lists), deflated or
// not, and the resource name a subscription keeps them in.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseRequestListName, requestListMembers, requestListName } from '../../lib/lists/request-list.js';
import type { SipRequest } from '../../lib/sip/message.js';
import { parseMessage } from '../../lib/sip/parser.js';

function subscribe(body: Buffer, headers: string[] = []): SipRequest {
  const head = [
    'SUBSCRIBE sip:rls@pbx SIP/2.0', 'Require: recipient-list-subscribe', 'Content-Disposition: recipient-list',
    'Content-Type: application/resource-lists+xml', ...headers, `Content-Length: ${body.length}`, '', '',
  ].join('\r\n');
  return parseMessage(Buffer.concat([Buffer.from(head), body])) as SipRequest;
}

describe('lists/request-contained lists (RFC 5367)', () => {
  it("reads linphonec's deflated friend list", () => {
    const request = parseMessage(readFileSync('fixtures/lists/linphonec-rls-subscribe.sip')) as SipRequest;
    expect(requestListMembers(request, 100)).to.deep.equal([
      { uri: 'sip:6001@127.0.0.1', user: '6001' },
      { uri: 'sip:6002@127.0.0.1', user: '6002' },
    ]);
  });

  it('reads nested lists in document order, each user once; a tel: URI by its number', () => {
    const members = requestListMembers(subscribe(readFileSync('fixtures/lists/request/nested.xml')), 100);
    expect(members).to.deep.equal([
      { uri: 'sip:2000@127.0.0.1', user: '2000' },
      { uri: 'sip:7000@127.0.0.1', user: '7000' },
      { uri: 'tel:+15551234', user: '+15551234' },
      { uri: 'sip:6002@127.0.0.1', user: '6002' },
    ]);
  });

  it('keeps the members in the resource name and reads them back', () => {
    const members = requestListMembers(subscribe(readFileSync('fixtures/lists/request/nested.xml')), 100);
    const name = requestListName('rls', members);
    expect(name).to.equal('rls sip:2000@127.0.0.1 sip:7000@127.0.0.1 tel:+15551234 sip:6002@127.0.0.1');
    expect(parseRequestListName('rls', name)).to.deep.equal(members);
    expect(parseRequestListName('buddies', name)).to.equal(undefined);
    expect(parseRequestListName('rls', 'rls')).to.equal(undefined);
  });

  it('counts members against the limit after removing repeats', () => {
    const body = readFileSync('fixtures/lists/request/nested.xml');
    expect(requestListMembers(subscribe(body), 4)).to.have.length(4);
    expect(() => requestListMembers(subscribe(body), 3)).to.throw('Request Entity Too Large (the resource list has more than 3 entries)');
  });
});
