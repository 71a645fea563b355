/** `/api/v1/login`, `/api/v1/logout`, `/api/v1/me`: the page's session. */
import type { FastifyInstance } from 'fastify';
import { ERRORS, PresencedError } from '../../errors.js';
import type { Caller } from './accounts.js';
import { checkCredentials, requireCaller, type AuthServices } from './auth.js';
import { ERROR_BODY } from './http-errors.js';
import { EXPIRED_COOKIE, sessionToken } from './sessions.js';

export interface SessionHooks {
  /** After a login through the page (the on-login state). */
  loggedIn?: (caller: Caller) => Promise<void>;
  /** After a logout through the page (the on-logout state). */
  loggedOut?: (caller: Caller) => Promise<void>;
  /** The page is being closed (or reloaded): the on-logout state follows unless it comes back. */
  leaving?: (caller: Caller) => void;
}

const ME = {
  type: 'object',
  required: ['role', 'canChange'],
  properties: {
    role: { type: 'string', enum: ['user', 'admin', 'anonymous'] },
    name: { type: 'string', description: "the user's endpoint (their CustomPresence name) or the administrator's AMI user" },
    displayName: { type: 'string' },
    context: { type: 'string' },
    canChange: { type: 'boolean', description: 'false for anonymous readers: the API is read-only for them' },
  },
} as const;

const LOGIN = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username: { type: 'string', minLength: 1, maxLength: 128 }, password: { type: 'string', maxLength: 256 } },
} as const;

export function describeCaller(caller: Caller): Record<string, unknown> {
  return { ...caller, canChange: caller.role !== 'anonymous' };
}

export function registerSessionRoutes(app: FastifyInstance, services: AuthServices, hooks: SessionHooks): void {
  app.post<{ Body: { username: string; password: string } }>('/api/v1/login', {
    schema: {
      summary: 'Log in with SIP credentials (users) or an AMI secret (administrators); sets the session cookie', tags: ['session'],
      body: LOGIN, response: { 200: ME, 400: ERROR_BODY, 401: ERROR_BODY },
    },
  }, async (request, reply) => {
    const verdict = await checkCredentials(services, request.body.username, request.body.password, request.ip);
    if ('failure' in verdict) throw new PresencedError(ERRORS.AUTHENTICATION_FAILED);
    const token = services.sessions.create(verdict.caller);
    reply.header('Set-Cookie', services.sessions.cookie(token));
    services.log.info(`http: '${verdict.caller.name}' logged in from ${request.ip}`);
    await hooks.loggedIn?.(verdict.caller);
    return describeCaller(verdict.caller);
  });

  app.post('/api/v1/logout', {
    schema: { summary: 'End the session (applies the on-logout state)', tags: ['session'], response: { 204: { type: 'null' }, 401: ERROR_BODY } },
  }, async (request, reply) => {
    const caller = requireCaller(request, reply);
    const token = sessionToken(request.headers.cookie);
    if (token !== undefined) services.sessions.end(token);
    reply.header('Set-Cookie', EXPIRED_COOKIE);
    if (request.authenticatedBy === 'session') await hooks.loggedOut?.(caller);
    return reply.code(204).send();
  });

  app.post('/api/v1/me/leaving', {
    schema: {
      summary: "The page is going away (its pagehide beacon): the on-logout state is applied unless one of the user's pages is open after the grace period",
      tags: ['session'], response: { 202: { type: 'null' }, 401: ERROR_BODY },
    },
  }, async (request, reply) => {
    const caller = requireCaller(request, reply);
    if (request.authenticatedBy === 'session') hooks.leaving?.(caller);
    return reply.code(202).send();
  });

  app.get('/api/v1/me', {
    schema: { summary: 'Who you are, and whether you may change states', tags: ['session'], response: { 200: ME, 401: ERROR_BODY } },
  }, async (request, reply) => describeCaller(requireCaller(request, reply)));
}
