import { expect } from 'chai';
import { formatUri, parseUri } from '../../lib/sip/uri.js';

describe('sip/uri', () => {
  it('parses a sip URI with every part', () => {
    expect(parseUri('sip:alice:secret@Atlanta.com:5070;transport=TCP;lr?subject=project%20x&priority=urgent'))
      .to.deep.equal({
        scheme: 'sip', user: 'alice', password: 'secret', host: 'atlanta.com', port: 5070,
        params: { transport: 'TCP', lr: null }, headers: 'subject=project%20x&priority=urgent',
      });
  });

  it('parses sips, a missing user and an upper-case scheme', () => {
    expect(parseUri('sips:bob@biloxi.com')).to.deep.equal({
      scheme: 'sips', user: 'bob', host: 'biloxi.com', params: {},
    });
    expect(parseUri('SIP:127.0.0.1:5091;transport=udp')).to.deep.equal({
      scheme: 'sip', host: '127.0.0.1', port: 5091, params: { transport: 'udp' },
    });
  });

  it('keeps IPv6 brackets', () => {
    expect(parseUri('sip:alice@[2001:db8::10]:5060;maddr=[2001:db8::1]')).to.deep.equal({
      scheme: 'sip', user: 'alice', host: '[2001:db8::10]', port: 5060, params: { maddr: '[2001:db8::1]' },
    });
    expect(parseUri('sip:[::1]')).to.deep.equal({ scheme: 'sip', host: '[::1]', params: {} });
  });

  it('keeps escapes in the user part as written and accepts user-unreserved characters', () => {
    expect(parseUri('sip:alice%20smith@h')?.user).to.equal('alice%20smith');
    expect(parseUri('sip:+1-212-555-1212;phone-context=x@h;user=phone')).to.deep.equal({
      scheme: 'sip', user: '+1-212-555-1212;phone-context=x', host: 'h', params: { user: 'phone' },
    });
    expect(parseUri('sip:%zz@h')).to.equal(undefined);
    expect(parseUri('sip:%ff@h')).to.equal(undefined);
  });

  it('parses tel URIs with the number in user', () => {
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')).to.deep.equal({
      scheme: 'tel', user: '+1-201-555-0123', host: '', params: { 'phone-context': 'example.com' },
    });
    expect(parseUri('tel:')).to.equal(undefined);
  });

  it('rejects a missing host, bad ports, whitespace and unknown schemes', () => {
    for (const text of ['sip:', 'sip:alice@', 'sip:@h', 'sip:;transport=udp', 'sip:alice@h:', 'sip:alice@h:99999',
      'sip:alice@h:5o6o', 'sip:alice@h name', 'sip:ali ce@h', 'alice@h', ':alice@h', '1sip:a@h', 'http://h/',
      'urn:uuid:1', '']) {
      expect(parseUri(text), text).to.equal(undefined);
    }
  });

  it('formats what it parses', () => {
    for (const text of ['sip:alice:secret@atlanta.com:5070;transport=TCP;lr?subject=x', 'sips:bob@biloxi.com',
      'sip:[2001:db8::10]:5060', 'sip:alice%20smith@h', 'tel:+1-201-555-0123;phone-context=example.com',
      'pres:alice@example.com']) {
      expect(formatUri(parseUri(text)!)).to.equal(text);
    }
    expect(formatUri({ scheme: 'sip', user: '7000', host: '127.0.0.1', params: { transport: 'udp' } }))
      .to.equal('sip:7000@127.0.0.1;transport=udp');
  });
});
