import { expect } from 'chai';
import { authorize, contextFor, pipeline, type Principal, type RequestStep } from '../../lib/sip/pipeline.js';
import type { IncomingRequest } from '../../lib/sip/stack.js';

const endpoint: Principal = { endpoint: '6001', owns: ['6001', 'alice'], subscribeContext: 'blf', context: 'internal', allowSubscribe: true };

describe('sip/pipeline', () => {
  describe('pipeline', () => {
    const incoming = {} as IncomingRequest;

    it('runs the steps in order, then the handler', () => {
      const seen: string[] = [];
      const step = (name: string): RequestStep => (_incoming, next) => {
        seen.push(name);
        next();
      };
      pipeline([step('acl'), step('authenticate')], () => seen.push('route'))(incoming);
      expect(seen).to.deep.equal(['acl', 'authenticate', 'route']);
    });

    it('stops at a step that answers, and goes on when a step calls next later', async () => {
      const seen: string[] = [];
      const refuse: RequestStep = () => seen.push('refused');
      pipeline([refuse], () => seen.push('route'))(incoming);
      expect(seen).to.deep.equal(['refused']);

      const later: RequestStep = (_incoming, next) => setImmediate(next);
      const routed = new Promise<void>((resolve) => pipeline([later], () => resolve())(incoming));
      await routed;
    });
  });

  describe('authorize', () => {
    it('lets anything through in open mode', () => {
      expect(authorize(undefined, { kind: 'subscribe' })).to.equal(undefined);
      expect(authorize(undefined, { kind: 'publish', user: '6002' })).to.equal(undefined);
    });

    it('refuses SUBSCRIBE with 403 when the endpoint may not subscribe', () => {
      expect(authorize(endpoint, { kind: 'subscribe' })).to.equal(undefined);
      expect(authorize({ ...endpoint, allowSubscribe: false }, { kind: 'subscribe' })).to.include({ status: 403, code: 'SUBSCRIBE_NOT_ALLOWED' });
    });

    it("lets an endpoint publish only its own presentity (its name or auth username)", () => {
      expect(authorize(endpoint, { kind: 'publish', user: '6001' })).to.equal(undefined);
      expect(authorize(endpoint, { kind: 'publish', user: 'alice' })).to.equal(undefined);
      expect(authorize(endpoint, { kind: 'publish', user: '6002' })).to.include({ status: 403, code: 'NOT_OWN_PRESENTITY' });
    });
  });

  it("resolves SUBSCRIBE in the subscribe context, other requests in the context, open mode in the default", () => {
    expect(contextFor(endpoint, 'SUBSCRIBE', 'default')).to.equal('blf');
    expect(contextFor(endpoint, 'PUBLISH', 'default')).to.equal('internal');
    expect(contextFor(undefined, 'SUBSCRIBE', 'default')).to.equal('default');
  });
});
