import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAccept, parseCSeq, parseEvent, parseNameAddr, parseVia } from '../lib/sip/headers.js';
import { parseMessage } from '../lib/sip/parser.js';

const CAPTURES = ['baresip-subscribe.sip', 'linphonec-subscribe.sip', 'sipp-subscribe.sip'];
const BATCH = 1000;
const MAX_PARSES = 10_000_000;

/** Parses the captured SUBSCRIBEs round-robin, reading what a server reads, for about `seconds`. */
export function benchParse(seconds = 2): { perSecond: number } {
  const datagrams = CAPTURES.map((name) => readFileSync(join(process.cwd(), 'fixtures', 'sip', name)));
  const budget = seconds * 1000;
  let checksum = 0;
  let parses = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < budget && parses < MAX_PARSES) {
    for (let i = 0; i < BATCH; i++) {
      const message = parseMessage(datagrams[(parses + i) % datagrams.length]);
      const via = parseVia(message.getAll('via')[0] ?? '');
      const from = parseNameAddr(message.get('from') ?? '');
      const to = parseNameAddr(message.get('to') ?? '');
      const cseq = parseCSeq(message.get('cseq') ?? '');
      const event = parseEvent(message.get('event') ?? '');
      const accept = parseAccept(message.getAll('accept'));
      checksum += (via?.port ?? 0) + (from?.uri.length ?? 0) + (to?.uri.length ?? 0) + (cseq?.seq ?? 0) +
        (event?.event.length ?? 0) + accept.length + (message.get('call-id')?.length ?? 0) +
        Number(message.get('expires') ?? 0);
    }
    parses += BATCH;
    elapsed = performance.now() - started;
  }
  if (checksum === 0) throw new Error('benchmark read nothing');
  return { perSecond: Math.round((parses * 1000) / elapsed) };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`parse: ${benchParse().perSecond} SUBSCRIBE/s`);
}
