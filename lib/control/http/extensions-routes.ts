/** `/api/v1/extensions`: the directory — each extension you may see, its name, hint, extension state and presence. */
import type { FastifyInstance } from 'fastify';
import type { Dialplan, Hint } from '../../presence/hints.js';
import { CUSTOM_PRESENCE } from '../../presence/presence-service.js';
import type { PresenceCommands } from '../commands.js';
import { displayName, type Accounts } from './accounts.js';
import { requireCaller } from './auth.js';
import { ERROR_RESPONSES, HINT_PRESENCE } from './presence-routes.js';
import { visibleHints } from './visibility.js';

const EXTENSION = {
  type: 'object',
  required: ['extension', 'context', 'name', 'hint', 'extensionState', 'presence'],
  properties: {
    extension: { type: 'string' },
    context: { type: 'string' },
    name: { type: 'string', description: "the caller ID name of the hint's PJSIP endpoint, else the extension" },
    hint: { type: 'string', description: 'the hint as `core show hints` prints it' },
    extensionState: { type: 'string', description: 'Idle, InUse, Busy, Unavailable, Ringing, OnHold…' },
    presence: HINT_PRESENCE,
  },
} as const;

export interface ExtensionRouteServices {
  commands: PresenceCommands;
  accounts: Accounts;
  dialplan: () => Dialplan;
  defaultContext: string;
}

export function registerExtensionRoutes(app: FastifyInstance, services: ExtensionRouteServices): void {
  const { commands, accounts, dialplan, defaultContext } = services;

  /** The endpoint behind a hint: its first PJSIP/SIP device (`PJSIP/6001` → 6001), else one named as the extension. */
  const nameOf = (hint: Hint): string => {
    const endpoints = new Map(accounts.endpoints().map((endpoint) => [endpoint.name, endpoint]));
    const device = hint.devices.map((text) => /^(?:PJSIP|SIP)\/([^/&]+)$/i.exec(text)?.[1]).find((name) => name !== undefined);
    const endpoint = (device && endpoints.get(device)) || endpoints.get(hint.exten);
    return endpoint ? displayName(endpoint) : hint.exten;
  };

  app.get('/api/v1/extensions', {
    schema: { summary: 'The directory: the extensions you may see', tags: ['directory'], response: { 200: { type: 'array', items: EXTENSION }, ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const caller = requireCaller(request, reply);
    return visibleHints(dialplan(), caller, defaultContext).map((hint) => {
      const row = commands.hint(hint.exten, hint.context);
      const presenceName = hint.presence?.startsWith(CUSTOM_PRESENCE) ? hint.presence.slice(CUSTOM_PRESENCE.length) : undefined;
      const presence = presenceName === undefined ? { state: 'not_set', subtype: '', message: '' } : { name: presenceName, ...commands.presenceOf(hint.presence as string) };
      return { extension: hint.exten, context: hint.context, name: nameOf(hint), hint: hint.text, extensionState: row?.deviceState ?? 'Unavailable', presence };
    });
  });
}
