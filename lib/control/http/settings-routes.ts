/** `/api/v1/me/settings`: a user's on-login and on-logout states (UCP's presence settings). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, PresencedError } from '../../errors.js';
import type { UserSettings, UserSettingsStore } from '../../panel/user-settings.js';
import type { Caller } from './accounts.js';
import { requireWriter } from './auth.js';
import { ERROR_RESPONSES } from './presence-routes.js';

const ENTRY_OR_NOTHING = { type: ['integer', 'null'], description: 'a state list entry id, or null: do nothing' } as const;
const SETTINGS = {
  type: 'object',
  required: ['onLogin', 'onLogout'],
  additionalProperties: false,
  properties: { onLogin: ENTRY_OR_NOTHING, onLogout: ENTRY_OR_NOTHING },
} as const;

function requireUser(request: FastifyRequest, reply: FastifyReply): Caller & { role: 'user' } {
  const caller = requireWriter(request, reply);
  if (caller.role !== 'user') throw new PresencedError(ERRORS.USERS_ONLY);
  return caller;
}

export function registerSettingsRoutes(app: FastifyInstance, settings: UserSettingsStore): void {
  app.get('/api/v1/me/settings', {
    schema: { summary: 'Your on-login and on-logout states', tags: ['settings'], response: { 200: SETTINGS, ...ERROR_RESPONSES } },
  }, async (request, reply) => settings.get(requireUser(request, reply).name));

  app.put<{ Body: UserSettings }>('/api/v1/me/settings', {
    schema: {
      summary: 'Set your on-login state (applied when you log in to the page) and on-logout state (applied when you log out or close it)',
      tags: ['settings'], body: SETTINGS, response: { 200: SETTINGS, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => settings.set(requireUser(request, reply).name, request.body));
}
