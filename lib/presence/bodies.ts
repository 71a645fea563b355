/**
 * The NOTIFY body formats of Event: presence and the choice among them by the SUBSCRIBE's Accept (RFC 6665
 * section 4.2.1 / RFC 3856 section 6.6). Formats and the choice: docs/PIDF.md.
 */
import { negotiate } from '../subscriptions/negotiate.js';
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

/** The format to send for these Accept header values; PIDF without an Accept (RFC 3856 section 6.6). */
export function negotiateBody(acceptValues: string[]): BodyFormat | undefined {
  return negotiate(acceptValues, BODY_FORMATS);
}

export function renderBody(format: BodyFormat, input: PidfInput): { contentType: string; body: string } {
  return { contentType: format.contentType, body: format.build(input) };
}
