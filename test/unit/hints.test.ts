import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Dialplan, type Hint } from '../../lib/presence/hints.js';

const GOLDEN_DIR = 'fixtures/hints';

/** What a golden file pins: contexts, hints and diagnostics, as plain JSON. */
function snapshot(dialplan: Dialplan): unknown {
  return JSON.parse(JSON.stringify({ contexts: dialplan.contexts, hints: dialplan.hints, diagnostics: dialplan.diagnostics }));
}

function expected(name: string): unknown {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.expected.json`), 'utf8'));
}

describe('Dialplan golden files', () => {
  const inputs = readdirSync(GOLDEN_DIR).filter((name) => name.endsWith('.conf'));

  it('has golden inputs', () => {
    expect(inputs).to.include.members(['syntax.conf', 'comments.conf', 'crlf.conf', 'contexts.conf', 'patterns.conf', 'includes.conf', 'resolve.conf']);
  });

  for (const input of inputs) {
    it(`reads ${input}`, () => {
      expect(snapshot(Dialplan.load(join(GOLDEN_DIR, input)))).to.deep.equal(expected(input.replace(/\.conf$/, '')));
    });
  }

  it('reads the bundled fixtures/extensions.conf', () => {
    expect(snapshot(Dialplan.load('fixtures/extensions.conf'))).to.deep.equal(expected('extensions'));
  });

  it('keeps CRLF in the CRLF input (the golden would prove nothing otherwise)', () => {
    expect(readFileSync(join(GOLDEN_DIR, 'crlf.conf'), 'utf8')).to.match(/^\uFEFF.*\r\n/);
  });
});

describe('Dialplan.load and Dialplan.parse', () => {
  it('throws naming the file when the dialplan itself cannot be read', () => {
    expect(() => Dialplan.load('fixtures/hints/no-such-file.conf')).to.throw(/fixtures\/hints\/no-such-file\.conf.*ENOENT/);
  });

  it('reads #includes through the given reader, relative to the including file', () => {
    const files = new Map([
      ['conf/phones/desk.conf', 'exten => 10,hint,PJSIP/10\n#include ../../missing.conf\n'],
    ]);
    const read = (path: string): string => {
      const text = files.get(path);
      if (text === undefined) throw Object.assign(new Error(`no ${path}`), { code: 'ENOENT' });
      return text;
    };
    const dialplan = Dialplan.parse('[default]\n#include "phones/desk.conf"\n', 'conf/extensions.conf', read);
    expect(dialplan.hints.map(({ exten, file, line }) => ({ exten, file, line }))).to.deep.equal([
      { exten: '10', file: 'conf/phones/desk.conf', line: 1 },
    ]);
    expect(dialplan.diagnostics).to.deep.equal([
      { file: 'conf/phones/desk.conf', line: 2, message: '#include "../../missing.conf": cannot read missing.conf (ENOENT)' },
    ]);
  });

  it('names text without a file <input> in diagnostics', () => {
    expect(Dialplan.parse('exten => 1,hint,SIP/1').diagnostics).to.deep.equal([
      { file: '<input>', line: 1, message: '"exten => 1,hint,SIP/1" is outside any [context]; ignored' },
    ]);
  });

  it('knows its contexts, case-sensitively, and not [general] or [globals]', () => {
    const dialplan = Dialplan.load('fixtures/hints/contexts.conf');
    expect(dialplan.hasContext('sales')).to.equal(true);
    expect(dialplan.hasContext('Sales')).to.equal(true);
    expect(dialplan.hasContext('SALES')).to.equal(false);
    expect(dialplan.hasContext('GENERAL')).to.equal(false);
    expect(dialplan.resolve('5001', 'Sales')?.text).to.equal('PJSIP/5001-other');
  });

  it('handles a dialplan of 10,000 hints', () => {
    const lines = ['[default]', 'include => more'];
    for (let i = 0; i < 10_000; i++) lines.push(`exten => ${100_000 + i},hint,PJSIP/${i},CustomPresence:${i}`);
    lines.push('[more]', 'exten => _9XXXXX,hint,PJSIP/${EXTEN}');
    const dialplan = Dialplan.parse(lines.join('\n'));
    expect(dialplan.hints).to.have.length(10_001);
    expect(dialplan.resolve('109999', 'default')?.text).to.equal('PJSIP/9999,CustomPresence:9999');
    expect(dialplan.resolve('912345', 'default')?.text).to.equal('PJSIP/912345');
    expect(dialplan.resolve('110000', 'default')).to.equal(undefined);
  });
});

describe('Dialplan.resolve', () => {
  const dialplan = Dialplan.load('fixtures/hints/resolve.conf');
  const where = (hint: Hint | undefined): string | undefined => hint && `${hint.exten}@${hint.context}:${hint.line} ${hint.text}`;

  it('finds a hint of the context itself', () => {
    expect(dialplan.resolve('100', 'phones')).to.deep.equal({
      exten: '100', context: 'phones', devices: ['PJSIP/100'], presence: 'CustomPresence:100',
      text: 'PJSIP/100,CustomPresence:100', file: 'fixtures/hints/resolve.conf', line: 3,
    });
  });

  it('follows includes in the order written', () => {
    expect(where(dialplan.resolve('200', 'phones'))).to.equal('200@office:8 PJSIP/200');
    expect(where(dialplan.resolve('200', 'lobby'))).to.equal('200@lobby:15 PJSIP/200-lobby');
  });

  it('follows nested includes depth-first', () => {
    expect(where(dialplan.resolve('400', 'phones'))).to.equal('400@lobby:14 PJSIP/400');
    expect(where(dialplan.resolve('600', 'phones'))).to.equal('600@loop-b:23 PJSIP/600');
  });

  it('survives include loops, including a context that includes itself', () => {
    expect(where(dialplan.resolve('500', 'loop-b'))).to.equal('500@loop-a:19 PJSIP/500');
    expect(where(dialplan.resolve('600', 'loop-a'))).to.equal('600@loop-b:23 PJSIP/600');
    expect(dialplan.resolve('999', 'loop-a')).to.equal(undefined);
  });

  it('turns a pattern hint into a concrete one, ${EXTEN} substituted', () => {
    expect(dialplan.resolve('305', 'office')).to.deep.equal({
      exten: '305', context: 'office', devices: ['PJSIP/305'], presence: 'CustomPresence:305',
      text: 'PJSIP/305,CustomPresence:305', file: 'fixtures/hints/resolve.conf', line: 9,
    });
    expect(where(dialplan.resolve('7123', 'phones'))).to.equal('7123@deep:29 ,CustomPresence:deep-7123');
  });

  it('prefers an exact hint to a pattern of the same context', () => {
    expect(where(dialplan.resolve('301', 'office'))).to.equal('301@office:10 SIP/301-exact');
  });

  it('searches a context fully, patterns included, before what it includes', () => {
    expect(where(dialplan.resolve('301', 'patterns'))).to.equal('301@patterns:32 PJSIP/pattern-301');
  });

  it('orders patterns most specific first, whatever the file order', () => {
    const cases: Array<[string, string | undefined]> = [
      ['125', 'PJSIP/12X'],
      ['135', 'PJSIP/1-range'],
      ['155', 'PJSIP/1XX'],
      ['1555', 'PJSIP/1X.'],
      ['15', 'PJSIP/early'],
      ['1', 'PJSIP/early'],
      ['99', 'PJSIP/any'],
      ['9', undefined],
    ];
    for (const [exten, text] of cases) expect(dialplan.resolve(exten, 'specific')?.text, exten).to.equal(text);
  });

  it('returns undefined for an unknown context or extension', () => {
    expect(dialplan.resolve('100', 'nowhere')).to.equal(undefined);
    expect(dialplan.resolve('999', 'phones')).to.equal(undefined);
    expect(dialplan.resolve('30', 'office')).to.equal(undefined);
  });

  it('substitutes ${EXTEN}, ${EXTEN:offset} and ${EXTEN:offset:length}', () => {
    const patterns = Dialplan.load('fixtures/hints/patterns.conf');
    const cases: Array<[string, string | undefined]> = [
      ['6001', 'SIP/6001-desk,CustomPresence:6001'],
      ['6125', 'PJSIP/125'],
      ['6205', 'PJSIP/05,CustomPresence:20'],
      ['6999', 'PJSIP/6999,CustomPresence:6999'],
      ['234', 'PJSIP/3'],
      ['95', 'PJSIP/two-95'],
      ['123', ',CustomPresence:any-123'],
      ['*8123', 'PJSIP/pickup-123'],
      ['31', 'PJSIP/comma-set'],
      [',5', 'PJSIP/comma-set'],
      ['7', 'PJSIP/early'],
    ];
    for (const [exten, text] of cases) expect(patterns.resolve(exten, 'default')?.text, exten).to.equal(text);
  });

  it('resolves the bundled dialplan the way its comments say', () => {
    const bundled = Dialplan.load('fixtures/extensions.conf');
    expect(where(bundled.resolve('6002', 'default'))).to.equal('6002@default:35 PJSIP/6002,CustomPresence:6002');
    expect(where(bundled.resolve('2001', 'default'))).to.equal('2001@default:52 ,CustomPresence:Bob');
    expect(where(bundled.resolve('7001', 'default'))).to.equal('7001@internal:63 SIP/7001');
    expect(where(bundled.resolve('7002', 'default'))).to.equal('7002@internal:67 PJSIP/7002,CustomPresence:7002');
    expect(bundled.resolve('9999', 'default')).to.equal(undefined);
    expect(bundled.resolve('6001', 'globals')).to.equal(undefined);
  });
});
