/** `/api/v1/me/settings`: a user's on-login and on-logout states and per-type actions (UCP's presence settings). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, PresencedError } from '../../errors.js';
import { ACTION_TYPES, type UserSettingsChange, type UserSettingsStore } from '../../panel/user-settings.js';
import type { Caller } from './accounts.js';
import { requireWriter } from './auth.js';
import { ERROR_RESPONSES } from './presence-routes.js';

const ENTRY_OR_NOTHING = { type: ['integer', 'null'], description: 'a state list entry id, or null: do nothing' } as const;
const MODE = { type: ['boolean', 'null'], description: 'true: turn on; false: turn off; null: leave as it is' } as const;
const TYPE_ACTIONS = {
  type: 'object',
  additionalProperties: false,
  properties: { dnd: { ...MODE, description: `Do Not Disturb (Custom:DND<you>): ${MODE.description}` }, followMe: { ...MODE, description: `Find Me/Follow Me (Custom:FOLLOWME<you>): ${MODE.description}` } },
} as const;
const ACTIONS = {
  type: 'object',
  additionalProperties: false,
  description: 'per state type, what to switch when your presence changes to it',
  properties: Object.fromEntries(ACTION_TYPES.map((type) => [type, TYPE_ACTIONS])),
};
const SETTINGS = {
  type: 'object',
  required: ['onLogin', 'onLogout', 'actions'],
  additionalProperties: false,
  properties: { onLogin: ENTRY_OR_NOTHING, onLogout: ENTRY_OR_NOTHING, actions: ACTIONS },
};
/** A change may leave out `actions` (they stay as they are). */
const SETTINGS_CHANGE = { ...SETTINGS, required: ['onLogin', 'onLogout'] };

function requireUser(request: FastifyRequest, reply: FastifyReply): Caller & { role: 'user' } {
  const caller = requireWriter(request, reply);
  if (caller.role !== 'user') throw new PresencedError(ERRORS.USERS_ONLY);
  return caller;
}

export function registerSettingsRoutes(app: FastifyInstance, settings: UserSettingsStore): void {
  app.get('/api/v1/me/settings', {
    schema: { summary: 'Your on-login and on-logout states and per-type actions', tags: ['settings'], response: { 200: SETTINGS, ...ERROR_RESPONSES } },
  }, async (request, reply) => settings.get(requireUser(request, reply).name));

  app.put<{ Body: UserSettingsChange }>('/api/v1/me/settings', {
    schema: {
      summary: 'Set your on-login state (applied when you log in to the page), on-logout state (applied when you log out or close it) ' +
        'and the modes to switch per state type',
      tags: ['settings'], body: SETTINGS_CHANGE, response: { 200: SETTINGS, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => settings.set(requireUser(request, reply).name, request.body));
}
