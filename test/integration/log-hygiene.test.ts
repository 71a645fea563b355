// D12: attacker text reaches the log escaped and truncated, and floods of the same event are summarised per interval.
import { expect } from 'chai';
import { UdpSipClient } from '../helpers/sip-client.js';
import { useServer, useSharedClient } from '../helpers/suite.js';
import { eventually } from '../helpers/sip-client.js';

describe('integration: log hygiene (D12)', function () {
  this.timeout(30000);
  const server = useServer({ logLevel: 'info' });
  const client = useSharedClient(() => UdpSipClient.open(server().udpPort));

  it('escapes control characters, so a Request-URI cannot drive the terminal or forge a line', async function () {
    const { response } = await client().subscribe({ uri: 'sip:6%1B%5B2J%1B%5B31mFAKE%0AFORGED%20LINE@127.0.0.1' });
    expect(response.status).to.equal(404);
    await eventually(() => server().stderr().includes('no hint for 6'), 5000, 'the 404 in the log');
    const log = server().stderr();
    expect(log).not.to.include('\u001b');
    expect(log).to.include('no hint for 6\\x1b[2J\\x1b[31mFAKE\\nFORGED LINE@default');
    expect(log.split('\n').filter((line) => line.startsWith('FORGED'))).to.deep.equal([]);
  });

  it('truncates long values, and summarises a flood in one line per interval', async function () {
    const user = 'u'.repeat(1900);
    for (let i = 0; i < 50; i++) expect((await client().subscribe({ user: `${user}${i}` })).response.status).to.equal(404);
    await eventually(() => server().stderr().includes('more SUBSCRIBEs for extensions without a hint in the last 10 s'), 15000, 'the summary line');
    const lines = server().stderr().split('\n');
    const full = lines.filter((line) => line.includes(`no hint for ${user.slice(0, 100)}`));
    expect(full.length).to.be.at.most(2);
    for (const line of full) expect(line).to.match(/… \(\d+ more characters\)$/).and.to.have.length.below(1200);
    expect(lines.some((line) => /INFO \d+ more SUBSCRIBEs for extensions without a hint in the last 10 s$/.test(line))).to.equal(true);
  });
});
