/**
 * The choice of a NOTIFY body type by the SUBSCRIBE's Accept (RFC 6665 section 4.2.1), for any event package.
 */
import { parseAccept, type MediaRange } from '../sip/headers.js';
import type { BodyType } from './event-package.js';

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
 * The body type to send for these Accept header values (every Accept line of the request), or undefined when none
 * is acceptable (the caller answers 406 naming `types`).
 * - No Accept, or one without a single media range: the package default, `types[0]` (RFC 3856 section 6.6: PIDF;
 *   RFC 4235 section 3.4: dialog-info).
 * - Each format takes the q of the most specific range that covers it (RFC 7231 section 5.3.2); q=0 refuses it.
 * - The highest q wins; on a tie a type the watcher named beats one it reached by a wildcard, then our order.
 * So for presence `multipart/related` (RFC 4662 lists) alone gets nothing, and `*\/*` gets PIDF.
 */
export function negotiate<T extends BodyType>(acceptValues: string[], types: readonly T[]): T | undefined {
  const ranges = parseAccept(acceptValues);
  if (ranges.length === 0) return types[0];
  let best: { format: T; q: number; specificity: number } | undefined;
  for (const format of types) {
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

