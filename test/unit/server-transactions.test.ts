import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { parseMessage } from '../../lib/sip/parser.js';
import type { SipRequest } from '../../lib/sip/message.js';
import { ServerTransactions } from '../../lib/sip/server-transactions.js';
import { TCP, UDP, type Flow } from '../../lib/sip/transport.js';
import { capture, replaceHeader } from './sip-captures.js';

const UDP_FLOW: Flow = { kind: UDP, remoteHost: '127.0.0.1', remotePort: 5070, localHost: '127.0.0.1', localPort: 5060 };

function subscribe(branch: string): SipRequest {
  const text = replaceHeader(capture('sipp'), 'Via', `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK${branch};rport`);
  return parseMessage(Buffer.from(text)) as SipRequest;
}

describe('sip/server-transactions', () => {
  const open: ServerTransactions[] = [];
  afterEach(() => open.splice(0).forEach((transactions) => transactions.stop()));

  it('absorbs a retransmission with the stored response', () => {
    const transactions = new ServerTransactions(60_000);
    open.push(transactions);
    const first = transactions.begin(subscribe('one'), UDP_FLOW);
    first.response = 'SIP/2.0 200 OK\r\n\r\n';
    expect(transactions.match(subscribe('one'), UDP_FLOW)).to.equal(first);
    expect(transactions.match(subscribe('two'), UDP_FLOW)).to.equal(undefined);
    expect(transactions.match(subscribe('one'), { ...UDP_FLOW, kind: TCP })).to.equal(undefined);
  });

  it('ends a transaction after one to two Timer J intervals and reports how many ended and how many are left', async () => {
    const reports: Array<[number, number]> = [];
    const transactions = new ServerTransactions(20, (ended, left) => reports.push([ended, left]));
    open.push(transactions);
    transactions.begin(subscribe('a'), UDP_FLOW);
    transactions.begin(subscribe('b'), UDP_FLOW);
    while (reports.length === 0) await sleep(10);
    expect(reports[0]).to.deep.equal([2, 0]);
    expect(transactions.match(subscribe('a'), UDP_FLOW)).to.equal(undefined);
    expect(transactions.size).to.equal(0);
  });
});
