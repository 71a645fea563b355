// The tshark capture of the whole interop run (started by capture.hooks.ts, stopped here, after every client):
// Wireshark's SIP dissector must find nothing malformed, and xmllint must accept every XML body on the wire.
import path from 'node:path';
import { expect } from 'chai';
import { fieldValues, framesMatching, xmlBodies } from './helpers/capture.js';
import type { CapturedBody } from './helpers/capture.js';
import { finishSuiteCapture } from './helpers/suite-capture.js';
import { xmllint } from './helpers/xmllint.js';

const PIDF_SCHEMA = path.resolve(process.cwd(), 'fixtures/schema/pidf.xsd');
const CLIENTS = [/SIPp/, /baresip/, /Linphone/i, /SIP\.js/, /JsSIP/];

/** Identical bodies (the same state sent to many watchers) are checked once; failures name their frames. */
async function failedChecks(bodies: CapturedBody[], schema?: string): Promise<string[]> {
  const frames = new Map<string, { body: Buffer; frames: number[] }>();
  for (const { body, frame } of bodies) {
    const key = body.toString('base64');
    const entry = frames.get(key) ?? { body, frames: [] };
    entry.frames.push(frame);
    frames.set(key, entry);
  }
  const failures: string[] = [];
  for (const { body, frames: where } of frames.values()) {
    const check = await xmllint(body, schema);
    if (!check.ok) failures.push(`frames ${where.join(', ')}: ${check.messages}\n${body.toString('utf8')}`);
  }
  return failures;
}

describe('interop: tshark capture of the whole run', function () {
  let file: string;
  let bodies: CapturedBody[];

  before(async function () {
    file = await finishSuiteCapture();
    bodies = await xmlBodies(file);
  });

  it('holds SIP from every client', async function () {
    const agents = await fieldValues(file, 'sip.User-Agent', 'sip.User-Agent');
    for (const client of CLIENTS) expect(agents.some((agent) => client.test(agent)), `${client} in ${[...new Set(agents)]}`).to.equal(true);
  });

  it('decodes with no malformed SIP message', async function () {
    expect(await framesMatching(file, 'sip')).to.not.be.empty;
    expect(await framesMatching(file, 'sip && _ws.malformed')).to.deep.equal([]);
  });

  it('holds SIP over WebSocket (RFC 7118): the upgrade echoing the sip subprotocol, NOTIFYs in WebSocket frames', async function () {
    expect(await fieldValues(file, 'http.response.code == 101', 'http.sec_websocket_protocol')).to.include('sip');
    expect(await framesMatching(file, 'websocket && sip.Method == "NOTIFY"')).to.not.be.empty;
  });

  it('carries PIDF bodies that are all well-formed XML, as is every other XML body', async function () {
    expect(bodies.filter(({ contentType }) => contentType === 'application/pidf+xml')).to.not.be.empty;
    expect(await failedChecks(bodies)).to.deep.equal([]);
  });

  it('carries PIDF bodies that all validate against fixtures/schema/pidf.xsd', async function () {
    const pidf = bodies.filter(({ contentType }) => contentType === 'application/pidf+xml');
    expect(await failedChecks(pidf, PIDF_SCHEMA)).to.deep.equal([]);
  });
});
