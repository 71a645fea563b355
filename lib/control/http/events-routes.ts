/**
 * `/api/v1/events`: the live feed (Server-Sent Events) — every presence change and state list change the caller may
 * see. A user's streams opened with the page's session drive the on-logout state: when the last one closes and
 * none comes back within the grace period, the user has gone.
 */
import type { FastifyInstance } from 'fastify';
import { ERRORS, PresencedError } from '../../errors.js';
import type { LoginStates } from '../../panel/login-states.js';
import type { StateList } from '../../panel/state-list.js';
import type { Dialplan } from '../../presence/hints.js';
import type { PresenceService } from '../../presence/presence-service.js';
import { CUSTOM_PRESENCE } from '../../presence/presence-service.js';
import { requireCaller } from './auth.js';
import type { EventLog, EventStream } from './event-log.js';
import { ERROR_BODY } from './http-errors.js';
import { ERROR_RESPONSES } from './presence-routes.js';
import { visiblePresenceNames } from './visibility.js';

export interface EventRouteServices {
  events: EventLog;
  presence: PresenceService;
  stateList: StateList;
  loginStates: LoginStates;
  dialplan: () => Dialplan;
  defaultContext: string;
}

const EVENTS_DESCRIPTION = `A text/event-stream. Events:
- \`presence\`: {name, state, subtype, message, source} — a CustomPresence state you may see changed (source: cli, ami, sip, http:<who>)
- \`states\`: {entries} — the state list changed
- \`resync\`: {} — the Last-Event-ID you sent is from before what is kept (or another run of the server): read everything again
Send \`Last-Event-ID\` (EventSource does on reconnect) to get what you missed in the last minutes.`;

export function registerEventRoutes(app: FastifyInstance, services: EventRouteServices): void {
  const { events, presence, stateList, loginStates, dialplan, defaultContext } = services;

  presence.on('change', (provider, state, _record, source) => {
    const name = provider.slice(CUSTOM_PRESENCE.length);
    events.publish('presence', { name, ...state, source }, (stream) => stream.presenceNames === 'all' || stream.presenceNames.has(name));
  });
  stateList.on('change', (entries) => events.publish('states', { entries }, () => true));
  // Open streams would keep the listener from closing.
  app.addHook('preClose', async () => {
    events.close();
    loginStates.stop();
  });

  app.get<{ Querystring: { lastEventId?: string } }>('/api/v1/events', {
    schema: {
      summary: 'Live events (Server-Sent Events) with Last-Event-ID replay', tags: ['events'], description: EVENTS_DESCRIPTION,
      querystring: { type: 'object', additionalProperties: false, properties: { lastEventId: { type: 'string', maxLength: 64 } } },
      response: { 200: { description: 'text/event-stream', type: 'string' }, ...ERROR_RESPONSES, 503: ERROR_BODY },
    },
  }, async (request, reply) => {
    const caller = requireCaller(request, reply);
    if (events.full) throw new PresencedError(ERRORS.STREAMS_FULL);
    const header = request.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) ?? request.query.lastEventId;
    const presenceNames = caller.role === 'admin' ? 'all' : visiblePresenceNames(dialplan(), caller, defaultContext);
    const stream: EventStream = { caller, presenceNames, response: reply.raw };
    reply.hijack();
    events.open(stream, lastEventId);
    if (caller.role === 'user' && request.authenticatedBy === 'session') {
      loginStates.streamOpened(caller.name);
      reply.raw.once('close', () => loginStates.streamClosed(caller.name));
    }
  });
}
