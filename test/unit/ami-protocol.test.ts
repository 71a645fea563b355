import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  AMI_BANNER, AmiFramer, AmiMessage, formatBlock, formatListComplete, formatListEvent, formatResponse, LINE_TOO_LONG,
  TOO_MANY_LINES, type FramedMessage,
} from '../../lib/control/ami/ami-protocol.js';

const FIXTURES = join(process.cwd(), 'fixtures', 'ami');
// The golden input has one 110-character line: longer than this limit, every other line is shorter.
const LIMITS = { maxLineLength: 64, maxLines: 8 };

/** What the golden file pins of each framed message. */
function snapshot(framed: FramedMessage[]): unknown[] {
  return framed.map(({ message, error }) => ({
    lines: message.lines,
    action: message.getNonEmpty('Action'),
    actionId: message.get('ActionID'),
    ...(error ? { error } : {}),
  }));
}

function frameInPieces(input: string, pieceLength: number): FramedMessage[] {
  const framer = new AmiFramer(LIMITS);
  const framed: FramedMessage[] = [];
  for (let i = 0; i < input.length; i += pieceLength) framed.push(...framer.push(input.slice(i, i + pieceLength)));
  return framed;
}

describe('ami/protocol', () => {
  const input = readFileSync(join(FIXTURES, 'requests.txt'), 'utf8');
  const expected: unknown = JSON.parse(readFileSync(join(FIXTURES, 'requests.expected.json'), 'utf8'));

  describe('AmiFramer', () => {
    it('cuts the golden stream into messages (CRLF and LF, header lookup, a line too long)', () => {
      expect(snapshot(new AmiFramer(LIMITS).push(input))).to.deep.equal(expected);
    });

    it('gives the same messages however the stream is split', () => {
      for (const pieceLength of [1, 2, 3, 7, 64, 65, 66, 500]) {
        expect(snapshot(frameInPieces(input, pieceLength)), `pieces of ${pieceLength}`).to.deep.equal(expected);
      }
    });

    it('drops a line that never ends, keeps nothing of it, and reports it when its message ends', () => {
      const framer = new AmiFramer(LIMITS);
      for (let i = 0; i < 1000; i++) expect(framer.push('y'.repeat(1000))).to.deep.equal([]);
      const [broken, next, ...rest] = framer.push('\r\nActionID: 7\r\n\r\nAction: Ping\r\n\r\n');
      expect(rest).to.deep.equal([]);
      expect(broken.error).to.equal(LINE_TOO_LONG);
      expect(broken.message.lines).to.deep.equal(['ActionID: 7']);
      expect(next.error).to.equal(undefined);
      expect(next.message.get('Action')).to.equal('Ping');
    });

    it('accepts a line of exactly the limit and no longer, CR or not', () => {
      const line = `Variable: ${'v'.repeat(LIMITS.maxLineLength - 10)}`;
      expect(line).to.have.length(LIMITS.maxLineLength);
      for (const ending of ['\r\n', '\n']) {
        const [framed] = new AmiFramer(LIMITS).push(`${line}${ending}${ending}`);
        expect(framed.error).to.equal(undefined);
        expect(framed.message.lines).to.deep.equal([line]);
        const [longer] = new AmiFramer(LIMITS).push(`${line}v${ending}${ending}`);
        expect(longer.error).to.equal(LINE_TOO_LONG);
      }
    });

    it('keeps at most maxLines lines and answers the message with Asterisk\'s error', () => {
      const lines = Array.from({ length: 20 }, (_, i) => `X-Line: ${i}`);
      const [framed] = new AmiFramer(LIMITS).push(`ActionID: many\r\n${lines.join('\r\n')}\r\n\r\n`);
      expect(framed.error).to.equal(TOO_MANY_LINES);
      expect(framed.message.lines).to.have.length(LIMITS.maxLines);
      expect(framed.message.get('ActionID')).to.equal('many');
    });
  });

  describe('AmiMessage', () => {
    const message = new AmiMessage(['action: Ping', 'Key:value', 'Key: second', 'Empty:', 'Empty: later', 'Keyboard: no', 'Spaced :no']);

    it('matches names case-insensitively, takes the first match and skips the blanks after the colon', () => {
      expect(message.get('Action')).to.equal('Ping');
      expect(message.get('KEY')).to.equal('value');
    });

    it('needs the colon right after the name', () => {
      expect(message.get('Key')).to.equal('value');
      expect(message.get('Spaced')).to.equal('');
      expect(message.get('Missing')).to.equal('');
    });

    it('can skip empty values', () => {
      expect(message.get('Empty')).to.equal('');
      expect(message.getNonEmpty('Empty')).to.equal('later');
    });
  });

  describe('formatting', () => {
    const request = new AmiMessage(['Action: PresenceStateList', 'ActionID: 42']);
    const anonymous = new AmiMessage(['Action: Ping']);

    it('starts every connection with the banner', () => {
      expect(AMI_BANNER).to.match(/^Asterisk Call Manager\/\d+\.\d+\.\d+\r\n$/);
    });

    it('writes responses in Asterisk\'s order and echoes ActionID only when there is one', () => {
      expect(formatResponse('Success', request, { eventList: 'start', text: 'Presence State Changes will follow', fields: [['X', 'y']] }))
        .to.equal('Response: Success\r\nActionID: 42\r\nEventList: start\r\nMessage: Presence State Changes will follow\r\nX: y\r\n\r\n');
      expect(formatResponse('Error', anonymous, { text: 'Permission denied' })).to.equal('Response: Error\r\nMessage: Permission denied\r\n\r\n');
      expect(formatResponse('Goodbye', anonymous)).to.equal('Response: Goodbye\r\n\r\n');
    });

    it('writes list items and the closing event with the ActionID and no Privilege', () => {
      expect(formatListEvent('ExtensionStatus', request, [['Exten', '6002']])).to.equal('Event: ExtensionStatus\r\nActionID: 42\r\nExten: 6002\r\n\r\n');
      expect(formatListComplete('ExtensionStateListComplete', request, 3))
        .to.equal('Event: ExtensionStateListComplete\r\nActionID: 42\r\nEventList: Complete\r\nListItems: 3\r\n\r\n');
    });

    it('keeps line breaks in values from injecting lines', () => {
      const echoed = new AmiMessage(['ActionID: a\rResponse: Success']);
      expect(formatResponse('Error', echoed, { text: 'x' })).to.equal('Response: Error\r\nActionID: aResponse: Success\r\nMessage: x\r\n\r\n');
      expect(formatBlock([['Message', 'one\r\n\r\nEvent: Forged']])).to.equal('Message: oneEvent: Forged\r\n\r\n');
    });
  });
});
