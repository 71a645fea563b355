// D12: what the logger writes is one line of printable text of bounded length.
import { expect } from 'chai';
import { createLogger, sanitize } from '../../lib/util/log.js';
import { LogSummary } from '../../lib/util/log-summary.js';

describe('log hygiene (D12)', function () {
  it('escapes C0, DEL and C1 control characters, line breaks included', function () {
    expect(sanitize('a\u001b[2Jb\nc\rd\te\u0000f\u007fg\u0085h', 100)).to.equal('a\\x1b[2Jb\\nc\\rd\\te\\x00f\\x7fg\\x85h');
  });

  it('truncates to the limit and says how much was left out', function () {
    expect(sanitize('x'.repeat(30), 10)).to.equal(`${'x'.repeat(10)}… (20 more characters)`);
  });

  it('writes every event as one line', function () {
    const lines: string[] = [];
    createLogger('info', (line) => lines.push(line)).info('one\ntwo');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/ INFO one\\ntwo\n$/);
  });

  it('summarises repeated events: the first in full, then a count per interval', async function () {
    const lines: string[] = [];
    const summary = new LogSummary(createLogger('info', (line) => lines.push(line)), 50);
    for (let i = 0; i < 1533; i++) summary.note('warn', 'NOTIFY timeouts', () => `timeout ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 80));
    summary.stop();
    expect(lines.map((line) => line.replace(/^\S+ /, ''))).to.deep.equal(['WARN timeout 0\n', 'WARN 1,532 more NOTIFY timeouts in the last 0.05 s\n']);
  });
});
