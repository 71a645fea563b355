/**
 * The NOTIFY body formats of Event: presence and the choice among them by the SUBSCRIBE's Accept (RFC 6665
 * section 4.2.1 / RFC 3856 section 6.6). Formats and the choice: docs/PIDF.md.
 */
import { parseAccept, type MediaRange } from '../sip/headers.js';
import { buildPidf, type PidfInput } from './pidf.js';
import { buildXpidf } from './xpidf.js';

export interface BodyFormat {
  /** The media type, sent as the NOTIFY's Content-Type without parameters (baresip compares the whole value). */
  readonly contentType: string;
  /** Pure: the notifier builds one body per state object and variant and caches it. */
  readonly build: (input: PidfInput) => string;
}

export const PIDF_FORMAT: BodyFormat = { contentType: 'application/pidf+xml', build: buildPidf };

/** The media type of the draft that became RFC 3863: the same document. (Asterisk sends XPIDF under it, which a
 *  client expecting PIDF cannot read.) */
export const CPIM_PIDF_FORMAT: BodyFormat = { contentType: 'application/cpim-pidf+xml', build: buildPidf };

export const XPIDF_FORMAT: BodyFormat = { contentType: 'application/xpidf+xml', build: buildXpidf };

/** Every format we produce, in our order of preference when an Accept ranks several the same. */
export const BODY_FORMATS: readonly BodyFormat[] = [PIDF_FORMAT, CPIM_PIDF_FORMAT, XPIDF_FORMAT];

/** For the Accept header of a 406 (RFC 3261 section 21.4.7) and of OPTIONS answers. */
export const ACCEPTED_BODY_TYPES: readonly string[] = BODY_FORMATS.map((format) => format.contentType);

/** The format with this Content-Type (a subscription restored from the store keeps its format by that name). */
export function bodyFormat(contentType: string): BodyFormat | undefined {
  return BODY_FORMATS.find((format) => format.contentType === contentType);
}

// RFC 3261 section 20.1 / 25.1: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** A missing or malformed q counts as 1: the range still names a type the watcher reads. */
function quality(range: MediaRange): number {
  const q = range.params['q'];
  return q !== undefined && q !== null && QVALUE.test(q) ? Number(q) : 1;
}

/** 2 for the type itself, 1 for `type/*`, 0 for `*\/*`, -1 when the range does not cover the type. */
function specificity(range: MediaRange, contentType: string): number {
  if (range.type === contentType) return 2;
  if (range.type === '*/*') return 0;
  return range.type.endsWith('/*') && contentType.startsWith(range.type.slice(0, -1)) ? 1 : -1;
}

/**
 * The format to send for these Accept header values (every Accept line of the request), or undefined when none
 * is acceptable (the caller answers 406 with ACCEPTED_BODY_TYPES).
 * - No Accept, or one without a single media range: PIDF, the package default (RFC 3856 section 6.6).
 * - Each format takes the q of the most specific range that covers it (RFC 7231 section 5.3.2); q=0 refuses it.
 * - The highest q wins; on a tie a type the watcher named beats one it reached by a wildcard, then our order.
 * So `multipart/related` (RFC 4662 lists) alone gets nothing, and `*\/*` gets PIDF.
 */
export function negotiateBody(acceptValues: string[]): BodyFormat | undefined {
  const ranges = parseAccept(acceptValues);
  if (ranges.length === 0) return PIDF_FORMAT;
  let best: { format: BodyFormat; q: number; specificity: number } | undefined;
  for (const format of BODY_FORMATS) {
    let match: { q: number; specificity: number } | undefined;
    for (const range of ranges) {
      const rangeSpecificity = specificity(range, format.contentType);
      if (rangeSpecificity < 0 || (match && rangeSpecificity < match.specificity)) continue;
      const q = quality(range);
      // Of equally specific ranges (a type listed twice) the best q counts.
      if (!match || rangeSpecificity > match.specificity || q > match.q) match = { q, specificity: rangeSpecificity };
    }
    if (!match || match.q === 0) continue;
    if (!best || match.q > best.q || (match.q === best.q && match.specificity > best.specificity)) {
      best = { format, ...match };
    }
  }
  return best?.format;
}

export function renderBody(format: BodyFormat, input: PidfInput): { contentType: string; body: string } {
  return { contentType: format.contentType, body: format.build(input) };
}
