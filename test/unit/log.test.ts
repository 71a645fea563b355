// D12: what the logger writes is one line of printable text of bounded length; JSON and pretty lines.
import { expect } from 'chai';
import { createLogger, MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, sanitize } from '../../lib/util/log.js';
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

function capture(format: 'json' | 'pretty', level: 'info' | 'debug' = 'info'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger(level, (chunk) => lines.push(...chunk.split(/(?<=\n)/)), format) };
}

describe('log', () => {
  it('escapes every control character: C0, DEL, C1 and the Unicode line separators', () => {
    expect(sanitize('a\nb\rc\td')).to.equal('a\\nb\\rc\\td');
    expect(sanitize('\x00\x1b[31m\x7f\x85\x9b')).to.equal('\\x00\\x1b[31m\\x7f\\x85\\x9b');
    expect(sanitize('x\u2028y\u2029z')).to.equal('x\\u2028y\\u2029z');
    expect(sanitize('Grüße — 日本')).to.equal('Grüße — 日本');
  });

  it('cuts long values and says how much was left out', () => {
    expect(sanitize('x'.repeat(MAX_FIELD_CHARS + 10))).to.equal(`${'x'.repeat(MAX_FIELD_CHARS)}… (10 more characters)`);
  });

  it('writes one JSON object per line with the level, an ISO time, the message and the fields', () => {
    const { lines, log } = capture('json');
    log.info('state: CustomPresence:6002 is away (by cli)', { entity: 'CustomPresence:6002', state: 'away', source: 'cli' });
    expect(lines).to.have.length(1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).to.include({ level: 'info', msg: 'state: CustomPresence:6002 is away (by cli)', entity: 'CustomPresence:6002', state: 'away', source: 'cli' });
    expect(line['time']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  for (const format of ['json', 'pretty'] as const) {
    it(`keeps a forged line inside its own line (${format})`, () => {
      const { lines, log } = capture(format);
      const forged = 'away\n2026-01-01T00:00:00.000Z ERROR forged\x1b[2J';
      log.warn(`publish: note ${forged}`, { message: forged });
      expect(lines).to.have.length(1);
      const written = format === 'json' ? (JSON.parse(lines[0]) as { msg: string }).msg : lines[0];
      expect(written).to.include('away\\n2026-01-01T00:00:00.000Z ERROR forged\\x1b[2J');
      expect(lines[0].slice(0, -1)).not.to.match(/[\x00-\x1f\x7f-\x9f]/);
    });
  }

  it('cuts a long message', () => {
    const { lines, log } = capture('json');
    log.warn('y'.repeat(MAX_MESSAGE_CHARS * 2));
    expect((JSON.parse(lines[0]) as { msg: string }).msg).to.have.length.below(MAX_MESSAGE_CHARS + 40);
  });

  it('writes the pretty format as time, level, message and key=value fields', () => {
    const { lines, log } = capture('pretty', 'debug');
    log.debug('hello', { count: 3, who: 'a b' });
    expect(lines[0]).to.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z DEBUG hello count=3 who="a b"\n$/);
  });

  it('writes nothing below its level', () => {
    const { lines, log } = capture('json');
    log.debug('not written');
    expect(lines).to.deep.equal([]);
    expect(log.enabled('debug')).to.equal(false);
    expect(log.enabled('warn')).to.equal(true);
  });
});
