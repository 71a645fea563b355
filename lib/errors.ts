/**
 * The one error registry (as fastify's lib/errors.js): every refusal any front end gives — a SIP status and reason
 * phrase, an HTTP status with a JSON body, an AMI `Message:`, a CLI message — is defined here once, with a stable
 * code. A message may hold one `%s`, filled with a detail. This file imports nothing; every folder may import it.
 * To add an error, add one line to ERRORS.
 */
export interface ErrorDefinition {
  /** Stable identifier for logs, HTTP bodies and tests. */
  readonly code: string;
  /** SIP status code of the answer. */
  readonly sip: number;
  /** The SIP reason phrase, the AMI Message and the HTTP/CLI message (`%s` = detail). */
  readonly message: string;
  readonly http: number;
}

/** What a SIP answer needs: a status and its reason phrase (and the code it came from, for logs). */
export interface SipAnswer {
  readonly status: number;
  readonly reason: string;
  readonly code?: string;
}

function define(code: string, sip: number, message: string, http: number): ErrorDefinition {
  return { code, sip, message, http };
}

export const ERRORS = {
  // Malformed requests (RFC 3261 §8.2).
  BAD_REQUEST: define('BAD_REQUEST', 400, '%s', 400),
  MISSING_HEADER: define('MISSING_HEADER', 400, 'Missing %s header', 400),
  MULTIPLE_HEADERS: define('MULTIPLE_HEADERS', 400, 'Multiple %s headers', 400),
  MALFORMED_HEADER: define('MALFORMED_HEADER', 400, 'Malformed %s header', 400),
  MISSING_FROM_TAG: define('MISSING_FROM_TAG', 400, 'Missing From tag', 400),
  CSEQ_METHOD_MISMATCH: define('CSEQ_METHOD_MISMATCH', 400, 'CSeq method does not match', 400),
  MALFORMED_REQUEST_URI: define('MALFORMED_REQUEST_URI', 400, 'Malformed Request-URI', 400),
  BAD_CONTENT_LENGTH: define('BAD_CONTENT_LENGTH', 400, 'Bad Content-Length', 400),
  TOO_MANY_HOPS: define('TOO_MANY_HOPS', 483, 'Too Many Hops', 400),
  UNSUPPORTED_URI_SCHEME: define('UNSUPPORTED_URI_SCHEME', 416, 'Unsupported URI Scheme', 400),
  METHOD_NOT_ALLOWED: define('METHOD_NOT_ALLOWED', 405, 'Method Not Allowed', 405),
  // Who may do what.
  UNAUTHORIZED: define('UNAUTHORIZED', 401, 'Unauthorized', 401),
  FORBIDDEN: define('FORBIDDEN', 403, 'Forbidden', 403),
  ADDRESS_DENIED: define('ADDRESS_DENIED', 403, 'Forbidden (address not permitted)', 403),
  SUBSCRIBE_NOT_ALLOWED: define('SUBSCRIBE_NOT_ALLOWED', 403, 'Forbidden (this endpoint may not subscribe)', 403),
  NOT_OWN_PRESENTITY: define('NOT_OWN_PRESENTITY', 403, "Forbidden (only the endpoint's own presence may be published)", 403),
  // Event packages and subscriptions (RFC 6665).
  BAD_EVENT: define('BAD_EVENT', 489, 'Bad Event', 400),
  EXTENSION_REQUIRED: define('EXTENSION_REQUIRED', 421, 'Extension Required (%s)', 400),
  NOT_ACCEPTABLE: define('NOT_ACCEPTABLE', 406, 'Not Acceptable (only %s)', 406),
  BAD_CONTACT: define('BAD_CONTACT', 400, 'Missing or malformed Contact header', 400),
  SIPS_NEEDS_TLS: define('SIPS_NEEDS_TLS', 480, 'Temporarily Unavailable (a sips: dialog needs a TLS connection)', 400),
  NO_HINT: define('NO_HINT', 404, 'Not Found (no hint for this extension)', 404),
  RECIPIENT_LIST_REQUIRED: define('RECIPIENT_LIST_REQUIRED', 400, 'Bad Request (a SUBSCRIBE to the list server needs %s, RFC 5367)', 400),
  LIST_TOO_LARGE: define('LIST_TOO_LARGE', 413, 'Request Entity Too Large (%s)', 413),
  MALFORMED_EXPIRES: define('MALFORMED_EXPIRES', 400, 'Malformed Expires header', 400),
  INTERVAL_TOO_BRIEF: define('INTERVAL_TOO_BRIEF', 423, 'Interval Too Brief', 400),
  NO_SUBSCRIPTION: define('NO_SUBSCRIPTION', 481, 'Subscription Does Not Exist', 404),
  CSEQ_OUT_OF_ORDER: define('CSEQ_OUT_OF_ORDER', 500, 'CSeq Out of Order', 409),
  // Publications (RFC 3903).
  NO_CUSTOM_PRESENCE_HINT: define('NO_CUSTOM_PRESENCE_HINT', 404, 'Not Found (no hint with a CustomPresence provider for this extension)', 404),
  BAD_ENTITY_TAG: define('BAD_ENTITY_TAG', 400, 'Bad Request (SIP-If-Match must hold one entity-tag)', 400),
  CONDITIONAL_REQUEST_FAILED: define('CONDITIONAL_REQUEST_FAILED', 412, 'Conditional Request Failed', 412),
  NOTHING_TO_REMOVE: define('NOTHING_TO_REMOVE', 400, 'Bad Request (Expires 0 needs a SIP-If-Match: there is nothing to remove)', 400),
  MISSING_BODY: define('MISSING_BODY', 400, 'Bad Request (an initial PUBLISH needs a PIDF body)', 400),
  MISSING_DIALOG_INFO: define('MISSING_DIALOG_INFO', 400, 'Bad Request (an initial PUBLISH needs a dialog-info body)', 400),
  UNSUPPORTED_MEDIA_TYPE: define('UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported Media Type', 415),
  BAD_BODY: define('BAD_BODY', 400, 'Bad Request (%s)', 400),
  NO_STATE_IN_BODY: define('NO_STATE_IN_BODY', 400, 'Bad Request (the PIDF document has no digium_presence, RPID activity or basic status)', 400),
  TOO_MANY_PUBLICATIONS: define('TOO_MANY_PUBLICATIONS', 403, 'Forbidden (too many publications for this presentity)', 429),
  // Limits on what a request may make us keep (lib/limits, docs/RELIABILITY.md).
  REQUEST_TOO_LARGE: define('REQUEST_TOO_LARGE', 513, 'Message Too Large (over %s bytes)', 413),
  HEADER_TOO_LONG: define('HEADER_TOO_LONG', 400, 'Bad Request (%s)', 431),
  DIALOG_TOO_LARGE: define('DIALOG_TOO_LARGE', 513, 'Message Too Large (subscription state over %s bytes)', 413),
  SUBSCRIPTIONS_FULL: define('SUBSCRIPTIONS_FULL', 503, 'Service Unavailable (subscription limit reached)', 503),
  SUBSCRIPTIONS_PER_SOURCE: define('SUBSCRIPTIONS_PER_SOURCE', 403, 'Forbidden (too many subscriptions from this address)', 429),
  SUBSCRIPTIONS_PER_PRESENTITY: define('SUBSCRIPTIONS_PER_PRESENTITY', 403, 'Forbidden (too many subscriptions to this resource)', 429),
  PUBLICATIONS_FULL: define('PUBLICATIONS_FULL', 503, 'Service Unavailable (publication limit reached)', 503),
  STORE_UNAVAILABLE: define('STORE_UNAVAILABLE', 503, 'Service Unavailable (the store cannot write)', 503),
  OVERLOADED: define('OVERLOADED', 503, 'Service Unavailable (overloaded)', 503),
  STORE_UNREACHABLE: define('STORE_UNREACHABLE', 503, 'Service Unavailable (the store is unreachable: %s)', 503),
  PUBLICATIONS_PER_SOURCE: define('PUBLICATIONS_PER_SOURCE', 403, 'Forbidden (too many publications from this address for this presentity)', 429),
  // Front ends (AMI wording is Asterisk's).
  INVALID_VALUE: define('INVALID_VALUE', 400, '%s', 400),
  INTERNAL: define('INTERNAL', 500, 'Server Internal Error', 500),
  MISSING_ACTION: define('MISSING_ACTION', 400, 'Missing action in request', 400),
  UNKNOWN_ACTION: define('UNKNOWN_ACTION', 405, 'Invalid/unknown command: %s. Use Action: ListCommands to show available commands.', 404),
  PERMISSION_DENIED: define('PERMISSION_DENIED', 403, 'Permission denied', 403),
  AUTHENTICATION_FAILED: define('AUTHENTICATION_FAILED', 403, 'Authentication failed', 401),
  MISSING_AUTH_TYPE: define('MISSING_AUTH_TYPE', 400, 'Must specify AuthType', 400),
  INVALID_EVENT_MASK: define('INVALID_EVENT_MASK', 400, 'Invalid event mask', 400),
  NO_SUCH_CHANNEL: define('NO_SUCH_CHANNEL', 404, 'No such channel', 404),
  NO_PROVIDER: define('NO_PROVIDER', 400, 'No provider specified', 400),
  INVALID_PROVIDER: define('INVALID_PROVIDER', 404, 'Invalid provider %s or provider in invalid state', 404),
  NO_VARIABLE: define('NO_VARIABLE', 400, 'No variable specified', 400),
  VARIABLE_NOT_SET: define('VARIABLE_NOT_SET', 400, 'Variable not set: %s', 400),
  NO_EXTENSION: define('NO_EXTENSION', 400, 'Extension not specified', 400),
  NO_HINTS: define('NO_HINTS', 404, 'No dialplan hints are available', 404),
  ACTION_FAILED: define('ACTION_FAILED', 500, 'Internal error: %s', 500),
  // The HTTP API (lib/control/http).
  NO_ROUTE: define('NO_ROUTE', 404, 'Not Found (no route %s)', 404),
  NO_SUCH_PRESENCE: define('NO_SUCH_PRESENCE', 404, 'Not Found (no CustomPresence state %s that you may see)', 404),
  LOGIN_REQUIRED: define('LOGIN_REQUIRED', 401, 'Unauthorized (log in, or send HTTP Basic credentials)', 401),
  READ_ONLY: define('READ_ONLY', 403, 'Forbidden (read-only: anonymous clients may only read; log in to change states)', 403),
  NOT_OWN_PRESENCE: define('NOT_OWN_PRESENCE', 403, 'Forbidden (a user may change only their own presence, %s)', 403),
  ADMINS_ONLY: define('ADMINS_ONLY', 403, 'Forbidden (administrators only)', 403),
  CROSS_SITE: define('CROSS_SITE', 403, 'Forbidden (a state change from another site)', 403),
  USERS_ONLY: define('USERS_ONLY', 403, 'Forbidden (only users, the endpoints of pjsip.conf, have settings)', 403),
  NO_SUCH_STATE_ENTRY: define('NO_SUCH_STATE_ENTRY', 404, 'Not Found (no state list entry %s)', 404),
  STREAMS_FULL: define('STREAMS_FULL', 503, 'Service Unavailable (event stream limit reached)', 503),
  // The CLI's control socket (lib/control/control-server.ts).
  NO_MATCHING_HINT: define('NO_MATCHING_HINT', 404, 'No hints matching extension %s', 404),
  NO_SUCH_PUBLICATION: define('NO_SUCH_PUBLICATION', 404, 'No live publication with entity-tag %s (see presencestate publications)', 404),
  NO_SUCH_SUBSCRIPTION: define('NO_SUCH_SUBSCRIPTION', 404, 'No active subscription with ID %s (see presencestate subscriptions)', 404),
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** The message of `error`, its `%s` filled with `detail`. */
export function errorMessage(error: ErrorDefinition, detail = ''): string {
  return error.message.replace('%s', detail);
}

/**
 * The SIP status and reason phrase of `error`. A detail is often a parser's or a peer's text: what RFC 3261 §25.1's
 * Reason-Phrase leaves out (control characters, and ASCII such as '<presence>' that would make the whole response
 * unparsable for the client) is taken out of it, and a double quote becomes a single one.
 */
export function sipAnswer(error: ErrorDefinition, detail?: string): SipAnswer {
  const phraseSafe = detail?.replace(/[\u0000-\u001F\u007F]/g, '').replace(/"/g, "'").replace(/[<>\\[\]^`{|}#%]/g, '');
  return { status: error.sip, reason: errorMessage(error, phraseSafe), code: error.code };
}

/** 200 OK, the one success answer the handlers give. */
export const OK: SipAnswer = { status: 200, reason: 'OK' };

/** An error to throw across a front end: its message is the registry's, its code stable. */
export class PresencedError extends Error {
  override name = 'PresencedError';
  readonly code: string;

  constructor(readonly definition: ErrorDefinition, detail?: string) {
    super(errorMessage(definition, detail));
    this.code = definition.code;
  }

  get sip(): SipAnswer {
    return { status: this.definition.sip, reason: this.message, code: this.code };
  }
}
