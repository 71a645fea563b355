// tshark on the loopback interface: records the suite's SIP traffic into a pcapng file, then reads it back with
// Wireshark's own SIP dissector, an implementation nobody here wrote. SIP over WebSocket is in it too: Wireshark
// follows the upgrade on the --ws port and hands each frame of the `sip` subprotocol to the same SIP dissector.
import { inflateSync } from 'node:zlib';
import { ManagedProcess, run } from './child.js';
import type { ExitStatus, RunResult } from './child.js';
import { SIP_PORTS, sipRange, WEB_PORTS } from './ports.js';

const START_TIMEOUT_MS = 15000;
const READ_TIMEOUT_MS = 60000;

/** A SIP message with a body, as tshark decoded it. */
export interface CapturedBody {
  frame: number;
  /** The Content-Type media type, lower case, without parameters. */
  contentType: string;
  body: Buffer;
}

/** Only the suite's block of SIP ports and the --ws port: the capture holds nothing but its SIP traffic. */
export const CAPTURE_FILTER = `(udp or tcp) and (portrange ${sipRange.first}-${sipRange.last} or port ${WEB_PORTS.ws})`;

/**
 * The server's port is not 5060, so SIP is decoded there explicitly (clients are found by the SIP heuristics); the
 * --ws port is read as HTTP, whose upgrade leads to the WebSocket dissector and, for the `sip` subprotocol, to SIP.
 */
const DECODE_AS = ['-d', `udp.port==${SIP_PORTS.server},sip`, '-d', `tcp.port==${SIP_PORTS.server},sip`, '-d', `tcp.port==${WEB_PORTS.ws},http`];

export class Capture {
  private constructor(readonly file: string, private readonly tshark: ManagedProcess) {}

  /** Starts capturing into `file` and resolves once tshark reports the capture running. Needs root (or dumpcap caps). */
  static async start(file: string, maxDurationMs: number): Promise<Capture> {
    const tshark = ManagedProcess.start('tshark', ['-i', 'lo', '-f', CAPTURE_FILTER, '-w', file, '-q'], {
      timeoutMs: maxDurationMs,
    });
    try {
      await tshark.until(() => (/Capturing on/.test(tshark.stderr()) ? true : undefined), START_TIMEOUT_MS, 'capture start');
    } catch (error) {
      await tshark.stop('SIGKILL');
      throw error;
    }
    return new Capture(file, tshark);
  }

  get running(): boolean {
    return this.tshark.running;
  }

  /** SIGINT makes tshark flush the file and exit cleanly. */
  stop(): Promise<ExitStatus> {
    return this.tshark.stop('SIGINT');
  }

  transcript(): string {
    return this.tshark.transcript();
  }
}

async function tsharkRead(file: string, args: string[]): Promise<RunResult> {
  const result = await run('tshark', ['-r', file, ...DECODE_AS, ...args], { timeoutMs: READ_TIMEOUT_MS });
  if (result.code !== 0) throw new Error(`tshark -r ${args.join(' ')} failed (${result.code ?? result.signal}):\n${result.stderr}`);
  return result;
}

/** One summary line per frame matching `displayFilter`. */
export async function framesMatching(file: string, displayFilter: string): Promise<string[]> {
  const { stdout } = await tsharkRead(file, ['-Y', displayFilter]);
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

/** The values of one field over the frames matching `displayFilter`, one entry per occurrence. */
export async function fieldValues(file: string, displayFilter: string, field: string): Promise<string[]> {
  const { stdout } = await tsharkRead(file, ['-Y', displayFilter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=\n', '-e', field]);
  return stdout.split('\n').filter((line) => line !== '');
}

type JsonLayer = Record<string, unknown>;

/** tshark -T json writes a layer that occurs twice in a frame (two SIP messages in a TCP segment) as an array. */
function occurrences(value: unknown): JsonLayer[] {
  if (Array.isArray(value)) return value as JsonLayer[];
  return value && typeof value === 'object' ? [value as JsonLayer] : [];
}

function contentTypeOf(headers: string): string {
  const match = /^(?:content-type|c)[ \t]*:[ \t]*([^;\r\n]+)/im.exec(headers);
  return (match?.[1] ?? '').trim().toLowerCase();
}

/** A zlib stream (RFC 1950) starts with CMF 0x78 (deflate, 32 KiB window). */
const ZLIB_HEADER = 0x78;

/**
 * The body as its sender wrote it: a `Content-Encoding: deflate` body (Linphone's resource lists) inflated, unless
 * Wireshark's SIP dissector has already done so.
 */
function decoded(headers: string, raw: Buffer): Buffer {
  const encoding = /^(?:content-encoding|e)[ \t]*:[ \t]*([^\r\n]+)/im.exec(headers)?.[1]?.trim().toLowerCase();
  return encoding === 'deflate' && raw[0] === ZLIB_HEADER ? inflateSync(raw) : raw;
}

/** Every SIP body whose Content-Type is an XML type (`…+xml` or `…/xml`), with its bytes as sent (after deflate). */
export async function xmlBodies(file: string): Promise<CapturedBody[]> {
  const { stdout } = await tsharkRead(file, ['-Y', 'sip.msg_body', '-T', 'json', '-x', '-J', 'frame sip']);
  const packets = JSON.parse(stdout || '[]') as Array<{ _source: { layers: Record<string, unknown> } }>;
  const bodies: CapturedBody[] = [];
  for (const { _source } of packets) {
    const frame = Number(occurrences(_source.layers.frame)[0]?.['frame.number']);
    for (const sip of occurrences(_source.layers.sip)) {
      const raw = sip['sip.msg_body_raw'];
      const headers = sip['sip.msg_hdr'];
      if (!Array.isArray(raw) || typeof raw[0] !== 'string' || typeof headers !== 'string') continue;
      const contentType = contentTypeOf(headers);
      if (/[/+]xml$/.test(contentType)) bodies.push({ frame, contentType, body: decoded(headers, Buffer.from(raw[0], 'hex')) });
    }
  }
  return bodies;
}
