// SIPp against presenced: scripted watchers and publishers (fixtures/sipp), judged by SIPp's own call counters.
import { expect } from 'chai';
import type { PresenceServer } from '../../helpers/server.js';
import { startInteropServer } from '../helpers/interop-server.js';
import { SIP_PORTS } from '../helpers/ports.js';
import { runSipp } from '../helpers/sipp.js';
import type { SippOptions, SippResult } from '../helpers/sipp.js';

const CALLS = 20;
const RATE = 10;
/** Device hints, a hint sharing another's provider, a presence-only hint, and one reached through an include. */
const WATCHED = ['6002', '6003', '2000', '7000'];
const PUBLISHED = ['2000', '7000'];

function expectAllCallsSucceeded(result: SippResult, calls: number): void {
  expect(result.failed, result.report).to.equal(0);
  expect(result.successful, result.report).to.equal(calls);
  expect(result.code, result.report).to.equal(0);
}

describe('interop: SIPp', function () {
  let server: PresenceServer;

  before(async function () {
    server = await startInteropServer();
  });

  after(async function () {
    await server?.stop();
  });

  const watchers: Array<Pick<SippOptions, 'transport' | 'localPort'>> = [
    { transport: 'UDP', localPort: SIP_PORTS.sippUdp },
    { transport: 'TCP', localPort: SIP_PORTS.sippTcp },
  ];
  for (const { transport, localPort } of watchers) {
    it(`subscribes, gets NOTIFYs, refreshes and unsubscribes over ${transport} with no failed call`, async function () {
      const result = await runSipp({
        scenario: 'subscribe-lifecycle.xml',
        transport,
        localPort,
        resources: WATCHED,
        calls: CALLS,
        rate: RATE,
      });
      expectAllCallsSucceeded(result, CALLS);
    });
  }

  it('subscribes with Event: dialog as a busy-lamp key: dialog-info bodies with versions 0, 1, 2 (RFC 4235)', async function () {
    const result = await runSipp({
      scenario: 'dialog-lifecycle.xml',
      transport: 'UDP',
      localPort: SIP_PORTS.sippUdp,
      resources: WATCHED,
      calls: CALLS,
      rate: RATE,
    });
    expectAllCallsSucceeded(result, CALLS);
  });

  it('publishes, refreshes, modifies and removes presence (RFC 3903) with no failed call', async function () {
    const calls = PUBLISHED.length * 2;
    const result = await runSipp({
      scenario: 'publish-lifecycle.xml',
      transport: 'UDP',
      localPort: SIP_PORTS.sippPublish,
      resources: PUBLISHED,
      calls,
      rate: RATE,
    });
    expectAllCallsSucceeded(result, calls);
  });
});
