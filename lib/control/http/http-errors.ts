/**
 * Every HTTP error is an answer from the one registry (lib/errors.ts): `{"error": {"code", "message"}}` with the
 * registry's HTTP status. Fastify's own errors (validation, body size, media type, JSON syntax) are mapped here
 * to registry codes, so a client sees one shape whatever refused its request.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, errorMessage, PresencedError, type ErrorDefinition } from '../../errors.js';
import type { LogSummary } from '../../util/log-summary.js';

/** The JSON schema of an error body, for the OpenAPI document. */
export const ERROR_BODY = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export function sendError(reply: FastifyReply, definition: ErrorDefinition, detail?: string): FastifyReply {
  return send(reply, definition, errorMessage(definition, detail));
}

function send(reply: FastifyReply, definition: ErrorDefinition, message: string): FastifyReply {
  return reply.code(definition.http).type('application/json').send({ error: { code: definition.code, message } });
}

/** What fastify or a route threw, as a registry error and its detail. */
function classify(error: FastifyError, maxBodyBytes: number): { definition: ErrorDefinition; detail?: string } {
  if (error.validation) return { definition: ERRORS.INVALID_VALUE, detail: describeValidation(error) };
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { definition: ERRORS.REQUEST_TOO_LARGE, detail: String(maxBodyBytes) };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { definition: ERRORS.UNSUPPORTED_MEDIA_TYPE };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { definition: ERRORS.INVALID_VALUE, detail: 'body: a JSON object is expected, the body is empty' };
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return { definition: ERRORS.INVALID_VALUE, detail: `body: not valid JSON (${error.message})` };
  return { definition: ERRORS.INTERNAL };
}

/** "body/state: must be equal to one of the allowed values (available, away, …)": names the field at fault. */
function describeValidation(error: FastifyError): string {
  const [first] = error.validation ?? [];
  if (!first) return error.message;
  const where = error.validationContext ?? 'body';
  const params = first.params as Record<string, unknown>;
  const field = typeof params.missingProperty === 'string'
    ? `${first.instancePath}/${params.missingProperty}`
    : typeof params.additionalProperty === 'string'
      ? `${first.instancePath}/${params.additionalProperty}`
      : first.instancePath;
  const allowed = Array.isArray(params.allowedValues) ? ` (${params.allowedValues.join(', ')})` : '';
  const what = typeof params.additionalProperty === 'string' ? 'is not a known field' : first.message ?? 'is not valid';
  return `${where}${field}: ${what}${allowed}`;
}

/** The error handler: answers from the registry; unexpected failures are logged (summarised, never a flood). */
export function errorHandler(summary: LogSummary, maxBodyBytes: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error instanceof PresencedError) return send(reply, error.definition, error.message);
    const { definition, detail } = classify(error, maxBodyBytes);
    if (definition === ERRORS.INTERNAL) {
      summary.note('error', 'HTTP request failures', () => `http: ${request.method} ${request.url} failed: ${error.stack ?? error.message}`);
    }
    return sendError(reply, definition, detail);
  };
}
