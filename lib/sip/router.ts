import { ERRORS, OK, sipAnswer } from '../errors.js';
import type { IncomingRequest, RequestHandler } from './stack.js';

/** What the application offers, advertised in OPTIONS answers and 405s (RFC 3261 §11.2, §21.4.6). */
export interface Capabilities { accept: string[]; allowEvents: string[] }

/**
 * Routes requests by method. OPTIONS is answered here from the registered methods and capabilities (§11.2); a method
 * nothing handles gets 405 with Allow (§8.2.1).
 */
export class MethodRouter {
  private readonly handlers = new Map<string, RequestHandler>();

  constructor(private readonly capabilities: Capabilities) {}

  on(method: string, handler: RequestHandler): this {
    this.handlers.set(method, handler);
    return this;
  }

  get allow(): string {
    return ['OPTIONS', ...this.handlers.keys()].join(', ');
  }

  readonly handle: RequestHandler = (incoming: IncomingRequest) => {
    const method = incoming.request.method;
    const handler = this.handlers.get(method);
    if (handler) return handler(incoming);
    if (method === 'OPTIONS') {
      incoming.respond(OK, {
        headers: [
          ['Allow', this.allow],
          ['Accept', this.capabilities.accept.join(', ')],
          ['Allow-Events', this.capabilities.allowEvents.join(', ')],
        ],
      });
      return;
    }
    incoming.respond(sipAnswer(ERRORS.METHOD_NOT_ALLOWED), { headers: [['Allow', this.allow]] });
  };
}
