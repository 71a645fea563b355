/**
 * Who is calling: HTTP Basic credentials (API clients), the session cookie (the page), or nobody — an anonymous
 * loopback reader when there are no users (no --pjsip). Failed logins are answered after a delay that grows per
 * address (the AMI's LoginThrottle) and logged like SIP authentication failures. State changes made with the
 * cookie must come from the same site and carry JSON (CSRF); Basic auth is not sent by browsers on their own.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, PresencedError } from '../../errors.js';
import { stripControlCharacters } from '../../presence/state.js';
import type { Logger } from '../../util/log.js';
import type { LoginThrottle } from '../ami/ami-login-throttle.js';
import type { Accounts, Caller, Verdict } from './accounts.js';
import { sendError } from './http-errors.js';
import { sessionToken, type Sessions } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Undefined: nobody (only public routes answer). */
    caller: Caller | undefined;
    /** How the caller proved who they are. */
    authenticatedBy: 'basic' | 'session' | undefined;
  }
}

export interface AuthServices {
  accounts: Accounts;
  sessions: Sessions;
  throttle: LoginThrottle;
  log: Logger;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/**
 * Checks credentials after the throttle's delay, whatever the outcome (so hanging up early tells nothing and still
 * counts, as for AMI logins); a failure is logged.
 */
export async function checkCredentials(services: AuthServices, username: string, password: string, address: string): Promise<Verdict> {
  const { delayMs } = services.throttle.attempt(address);
  if (delayMs > 0) await sleep(delayMs, undefined, { ref: false });
  const verdict = services.accounts.verify(username, password, address);
  if ('failure' in verdict) {
    // User input in a log line: control characters stripped so that it cannot forge lines.
    services.log.warn(`http: ${address} failed to authenticate as '${stripControlCharacters(username)}' (${verdict.failure})`);
  } else services.throttle.succeeded(address);
  return verdict;
}

export function registerAuth(app: FastifyInstance, services: AuthServices): void {
  app.decorateRequest('caller', undefined);
  app.decorateRequest('authenticatedBy', undefined);
  app.addHook('onRequest', async (request, reply) => {
    if (BODY_METHODS.has(request.method) && !isJson(request.headers['content-type'])) return sendError(reply, ERRORS.UNSUPPORTED_MEDIA_TYPE);
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const credentials = basicCredentials(authorization);
      const verdict = credentials && await checkCredentials(services, credentials.username, credentials.password, request.ip);
      if (!verdict || 'failure' in verdict) {
        reply.header('WWW-Authenticate', 'Basic realm="presenced", charset="UTF-8"');
        return sendError(reply, ERRORS.AUTHENTICATION_FAILED);
      }
      request.caller = verdict.caller;
      request.authenticatedBy = 'basic';
      return undefined;
    }
    const token = sessionToken(request.headers.cookie);
    const caller = token === undefined ? undefined : services.sessions.get(token);
    if (caller) {
      if (UNSAFE_METHODS.has(request.method) && crossSite(request)) return sendError(reply, ERRORS.CROSS_SITE);
      request.caller = caller;
      request.authenticatedBy = 'session';
    } else if (!services.accounts.hasUsers && isLoopback(request.ip)) {
      request.caller = { role: 'anonymous' };
    }
    return undefined;
  });
}

/** The caller, or 401: with the Basic challenge for API clients, without it for the page's own requests (a
 *  challenge would make the browser open its login dialog over the page's form). */
export function requireCaller(request: FastifyRequest, reply: FastifyReply): Caller {
  if (request.caller) return request.caller;
  const mode = request.headers['sec-fetch-mode'];
  if (mode === undefined || mode === 'navigate') reply.header('WWW-Authenticate', 'Basic realm="presenced", charset="UTF-8"');
  throw new PresencedError(ERRORS.LOGIN_REQUIRED);
}

/** A caller who may change things: a user or an administrator. */
export function requireWriter(request: FastifyRequest, reply: FastifyReply): Exclude<Caller, { role: 'anonymous' }> {
  const caller = requireCaller(request, reply);
  if (caller.role === 'anonymous') throw new PresencedError(ERRORS.READ_ONLY);
  return caller;
}

export function requireAdmin(request: FastifyRequest, reply: FastifyReply): Caller & { role: 'admin' } {
  const caller = requireWriter(request, reply);
  if (caller.role !== 'admin') throw new PresencedError(ERRORS.ADMINS_ONLY);
  return caller;
}

function basicCredentials(header: string): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A browser says where a request comes from (Sec-Fetch-Site, Origin); another site may not change states. */
function crossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = request.headers.origin;
  return origin !== undefined && origin !== `${request.protocol}://${request.headers.host}`;
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType);
}
