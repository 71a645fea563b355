/** `/api/v1/presence`: read the CustomPresence states a caller may see; change one (a user their own). */
import type { FastifyInstance } from 'fastify';
import { ERRORS, PresencedError } from '../../errors.js';
import type { Dialplan } from '../../presence/hints.js';
import { PRESENCE_STATES } from '../../presence/state.js';
import type { PresenceCommands } from '../commands.js';
import { requireCaller, requireWriter } from './auth.js';
import { ERROR_BODY } from './http-errors.js';
import { visiblePresenceNames } from './visibility.js';

export interface PresenceRouteServices {
  commands: PresenceCommands;
  dialplan: () => Dialplan;
  defaultContext: string;
}

/** A CustomPresence name: what follows `CustomPresence:` (letters, digits and a few safe marks). */
export const NAME_PARAM = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[A-Za-z0-9_.+@-]{1,80}$' } } } as const;

const PRESENCE_PROPERTIES = {
  name: { type: 'string', description: 'the CustomPresence name, e.g. 6001 for CustomPresence:6001' },
  state: { type: 'string', enum: PRESENCE_STATES },
  subtype: { type: 'string' },
  message: { type: 'string' },
} as const;

export const PRESENCE = { type: 'object', required: ['name', 'state', 'subtype', 'message'], properties: PRESENCE_PROPERTIES } as const;

/** A hint's presence: without a name when the hint has no CustomPresence provider. */
export const HINT_PRESENCE = { type: 'object', required: ['state', 'subtype', 'message'], properties: PRESENCE_PROPERTIES } as const;

/** A change: `state` as the CLI takes it (any case); subtype and message optional. */
export const PRESENCE_CHANGE = {
  type: 'object',
  required: ['state'],
  additionalProperties: false,
  properties: {
    state: { type: 'string', minLength: 1, maxLength: 16, description: PRESENCE_STATES.join(', ') + ' (any case)' },
    subtype: { type: 'string', maxLength: 80 },
    message: { type: 'string', maxLength: 256 },
  },
} as const;

export const ERROR_RESPONSES = { 400: ERROR_BODY, 401: ERROR_BODY, 403: ERROR_BODY, 404: ERROR_BODY } as const;

export function registerPresenceRoutes(app: FastifyInstance, services: PresenceRouteServices): void {
  const { commands, dialplan, defaultContext } = services;
  const stateOf = (name: string) => ({ name, ...commands.presenceOf(`CustomPresence:${name}`) });

  app.get('/api/v1/presence', {
    schema: {
      summary: 'Every CustomPresence state you may see', tags: ['presence'],
      response: { 200: { type: 'array', items: PRESENCE }, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const caller = requireCaller(request, reply);
    const names = visiblePresenceNames(dialplan(), caller, defaultContext);
    if (caller.role === 'admin') for (const { provider } of commands.presenceStates()) names.add(provider.slice('CustomPresence:'.length));
    return [...names].sort().map(stateOf);
  });

  app.get<{ Params: { name: string } }>('/api/v1/presence/:name', {
    schema: { summary: 'One CustomPresence state', tags: ['presence'], params: NAME_PARAM, response: { 200: PRESENCE, ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const caller = requireCaller(request, reply);
    const { name } = request.params;
    if (caller.role !== 'admin' && !visiblePresenceNames(dialplan(), caller, defaultContext).has(name)) {
      throw new PresencedError(ERRORS.NO_SUCH_PRESENCE, name);
    }
    return stateOf(name);
  });

  app.put<{ Params: { name: string }; Body: { state: string; subtype?: string; message?: string } }>('/api/v1/presence/:name', {
    schema: {
      summary: 'Change a CustomPresence state (a user: their own; an administrator: any)', tags: ['presence'],
      description: 'Validated as `presencestate change`; stored durably before the answer; every SIP watcher, AMI client and event stream sees it.',
      params: NAME_PARAM, body: PRESENCE_CHANGE, response: { 200: PRESENCE, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const caller = requireWriter(request, reply);
    const { name } = request.params;
    if (caller.role === 'user' && caller.name !== name) throw new PresencedError(ERRORS.NOT_OWN_PRESENCE, caller.name);
    const state = await commands.set(name, request.body, `http:${caller.name}`);
    return { name, ...state };
  });
}
