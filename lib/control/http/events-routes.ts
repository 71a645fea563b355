/**
 * `/api/v1/events`: the live feed (Server-Sent Events) — every presence change, device change, extension state
 * change, directory change and state list change the caller may see. A user's streams opened with the page's
 * session drive the on-logout state: when the last one closes and none comes back within the grace period, the user
 * has gone.
 */
import type { FastifyInstance } from 'fastify';
import type { DeviceService } from '../../devices/device-service.js';
import type { ExtensionState } from '../../devices/device-state.js';
import { ERRORS, PresencedError } from '../../errors.js';
import type { LoginStates } from '../../panel/login-states.js';
import type { StateList } from '../../panel/state-list.js';
import type { HintDirectory } from '../../presence/hint-directory.js';
import type { Dialplan, Hint } from '../../presence/hints.js';
import type { PresenceService } from '../../presence/presence-service.js';
import { CUSTOM_PRESENCE } from '../../presence/presence-service.js';
import { requireCaller } from './auth.js';
import type { EventLog, EventStream } from './event-log.js';
import { ERROR_BODY } from './http-errors.js';
import { ERROR_RESPONSES } from './presence-routes.js';
import { VisibilityCache } from './visibility.js';

export interface EventRouteServices {
  events: EventLog;
  presence: PresenceService;
  devices: DeviceService;
  stateList: StateList;
  loginStates: LoginStates;
  hints: HintDirectory;
  defaultContext: string;
  /** A user's own devices beyond their hints' (the modes their state actions switch). */
  ownDevices: (user: string) => readonly string[];
}

const EVENTS_DESCRIPTION = `A text/event-stream. Events:
- \`presence\`: {name, state, subtype, message, source} — a CustomPresence state you may see changed (source: cli, ami, sip, http:<who>)
- \`device\`: {device, state} — a device of a hint you may see (or one of your own mode devices, Custom:DND<you>, Custom:FOLLOWME<you>) changed
- \`extension\`: {extension, context, extensionState} — the extension state of a hint you may see changed (after one of its devices did)
- \`directory\`: {} — the dialplan was reloaded: read /api/v1/extensions again
- \`states\`: {entries} — the state list changed
- \`resync\`: {} — the Last-Event-ID you sent is from before what is kept (or another run of the server): read everything again
Send \`Last-Event-ID\` (EventSource does on reconnect) to get what you missed in the last minutes.`;

export function registerEventRoutes(app: FastifyInstance, services: EventRouteServices): void {
  const { events, presence, devices, stateList, loginStates, hints, defaultContext, ownDevices } = services;
  const visibility = new VisibilityCache({ dialplan: () => hints.current, defaultContext, devicesOf: (hint) => devices.devicesOf(hint), ownDevices });
  const seen = (stream: EventStream) => visibility.of(stream.caller);
  let lamps = watchLamps(hints.current);

  presence.on('change', (provider, state, _record, source) => {
    const name = provider.slice(CUSTOM_PRESENCE.length);
    events.publish('presence', { name, ...state, source }, (stream) => {
      const { presenceNames } = seen(stream);
      return presenceNames === 'all' || presenceNames.has(name);
    });
  });
  devices.on('change', (device, state) => {
    events.publish('device', { device, state }, (stream) => {
      const visible = seen(stream).devices;
      return visible === 'all' || visible.has(device);
    });
    for (const hint of lamps.byDevice.get(device) ?? []) {
      const extensionState = devices.extensionState(hint);
      if (lamps.states.get(hint) === extensionState) continue;
      lamps.states.set(hint, extensionState);
      events.publish('extension', { extension: hint.exten, context: hint.context, extensionState }, (stream) => {
        const visible = seen(stream).hints;
        return visible === 'all' || visible.has(hint);
      });
    }
  });
  hints.on('reload', (dialplan) => {
    lamps = watchLamps(dialplan);
    events.publish('directory', {}, () => true);
  });
  stateList.on('change', (entries) => events.publish('states', { entries }, () => true));
  // Open streams would keep the listener from closing.
  app.addHook('preClose', async () => {
    events.close();
    loginStates.stop();
  });

  /** The listed hints by device, and the extension state each last had (like AMI, an event only when it changes). */
  function watchLamps(dialplan: Dialplan): { byDevice: Map<string, Hint[]>; states: Map<Hint, ExtensionState> } {
    const byDevice = new Map<string, Hint[]>();
    const states = new Map<Hint, ExtensionState>();
    for (const hint of dialplan.hints) {
      if (hint.exten.startsWith('_')) continue;
      for (const device of new Set(devices.devicesOf(hint))) {
        const holders = byDevice.get(device);
        if (holders) holders.push(hint);
        else byDevice.set(device, [hint]);
      }
      states.set(hint, devices.extensionState(hint));
    }
    return { byDevice, states };
  }

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
    const stream: EventStream = { caller, response: reply.raw };
    reply.hijack();
    events.open(stream, lastEventId);
    if (caller.role === 'user' && request.authenticatedBy === 'session') {
      loginStates.streamOpened(caller.name);
      reply.raw.once('close', () => loginStates.streamClosed(caller.name));
    }
  });
}
