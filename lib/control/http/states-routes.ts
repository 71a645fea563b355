/** `/api/v1/states`: the administrator's list of states users pick from; everyone reads it, administrators change it. */
import type { FastifyInstance } from 'fastify';
import type { StateList } from '../../panel/state-list.js';
import type { PresenceStateName } from '../../presence/state.js';
import { PRESENCE_STATES } from '../../presence/state.js';
import { requireAdmin, requireCaller } from './auth.js';
import { ERROR_BODY } from './http-errors.js';
import { ERROR_RESPONSES } from './presence-routes.js';

const ENTRY = {
  type: 'object',
  required: ['id', 'type', 'message'],
  properties: { id: { type: 'integer' }, type: { type: 'string', enum: PRESENCE_STATES }, message: { type: 'string' } },
} as const;

const FIELDS = {
  type: { type: 'string', enum: PRESENCE_STATES, description: 'the presence state this entry sets' },
  message: { type: 'string', maxLength: 80, description: 'shown with the state, e.g. "Lunch"' },
} as const;

const ID_PARAM = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,9}$' } } } as const;
const LIST = { type: 'array', items: ENTRY } as const;
const RESPONSES = { ...ERROR_RESPONSES, 409: ERROR_BODY, 500: ERROR_BODY } as const;

interface Fields { type: PresenceStateName; message?: string }

export function registerStateRoutes(app: FastifyInstance, list: StateList): void {
  app.get('/api/v1/states', {
    schema: { summary: 'The state list users pick from, in order', tags: ['states'], response: { 200: LIST, ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    requireCaller(request, reply);
    return list.entries;
  });

  app.post<{ Body: Fields & { before?: number } }>('/api/v1/states', {
    schema: {
      summary: 'Add an entry (at the end, or before another)', tags: ['states'],
      body: { type: 'object', required: ['type'], additionalProperties: false, properties: { ...FIELDS, before: { type: 'integer' } } },
      response: { 201: ENTRY, ...RESPONSES },
    },
  }, async (request, reply) => {
    requireAdmin(request, reply);
    const { type, message = '', before } = request.body;
    return reply.code(201).send(await list.add({ type, message: message.trim() }, before));
  });

  app.put<{ Body: { order: number[] } }>('/api/v1/states', {
    schema: {
      summary: 'Reorder the list: every id once, in the new order', tags: ['states'],
      body: { type: 'object', required: ['order'], additionalProperties: false, properties: { order: { type: 'array', items: { type: 'integer' }, maxItems: 1000 } } },
      response: { 200: LIST, ...RESPONSES },
    },
  }, async (request, reply) => {
    requireAdmin(request, reply);
    await list.reorder(request.body.order);
    return list.entries;
  });

  app.put<{ Params: { id: string }; Body: Fields }>('/api/v1/states/:id', {
    schema: {
      summary: 'Change an entry', tags: ['states'], params: ID_PARAM,
      body: { type: 'object', required: ['type'], additionalProperties: false, properties: FIELDS },
      response: { 200: ENTRY, ...RESPONSES },
    },
  }, async (request, reply) => {
    requireAdmin(request, reply);
    const { type, message = '' } = request.body;
    return list.update(Number(request.params.id), { type, message: message.trim() });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/states/:id', {
    schema: { summary: 'Remove an entry (settings naming it then do nothing)', tags: ['states'], params: ID_PARAM, response: { 204: { type: 'null' }, ...RESPONSES } },
  }, async (request, reply) => {
    requireAdmin(request, reply);
    await list.remove(Number(request.params.id));
    return reply.code(204).send();
  });
}
