/**
 * The HTTP listener (`--http HOST:PORT`), on fastify: schema-validated JSON routes, the OpenAPI document at
 * /openapi.json, answers from the one error registry (404 for unknown routes, 413 for oversized bodies). Route
 * files register themselves on `app`; this file owns the instance, its limits and its lifecycle.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { ERRORS } from '../../errors.js';
import { formatHostPort } from '../../sip/transport.js';
import type { Logger } from '../../util/log.js';
import { LogSummary } from '../../util/log-summary.js';
import { errorHandler, sendError } from './http-errors.js';

export interface HttpLimits {
  /** Largest request body accepted (larger: 413). */
  maxBodyBytes: number;
  /** A request whose headers or body take longer than this is dropped. */
  requestTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxBodyBytes: 16 * 1024, requestTimeoutMs: 30_000 };

export interface HttpServerOptions {
  host: string;
  port: number;
  log: Logger;
  limits?: HttpLimits;
}

export class HttpServer {
  readonly app: FastifyInstance;
  private readonly summary: LogSummary;

  constructor(private readonly options: HttpServerOptions) {
    const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
    this.summary = new LogSummary(options.log);
    this.app = Fastify({
      bodyLimit: limits.maxBodyBytes,
      requestTimeout: limits.requestTimeoutMs,
      // Unknown fields are refused (400 naming them), not silently dropped; JSON types are not coerced.
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
      return503OnClosing: true,
    });
    this.app.setErrorHandler(errorHandler(this.summary, limits.maxBodyBytes));
    this.app.setNotFoundHandler((request, reply) => sendError(reply, ERRORS.NO_ROUTE, `${request.method} ${request.url.split('?')[0]}`));
  }

  /** The OpenAPI document is built from every route's schema; register it before the routes. */
  async registerOpenApi(version: string): Promise<void> {
    await this.app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'presenced',
          version,
          description: 'The presence panel API: CustomPresence states, the state list, user settings, the directory and live events.',
        },
        components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' }, session: { type: 'apiKey', in: 'cookie', name: 'presenced_session' } } },
        security: [{ basic: [] }, { session: [] }],
      },
    });
    this.app.get('/openapi.json', { schema: { hide: true } }, async () => this.app.swagger());
  }

  async listen(): Promise<void> {
    await this.app.listen({ host: this.options.host, port: this.options.port });
  }

  describeAddress(): string {
    const address = this.app.server.address();
    if (address === null || typeof address === 'string') return formatHostPort(this.options.host, this.options.port);
    return formatHostPort(address.address, address.port);
  }

  async close(): Promise<void> {
    this.summary.stop();
    await this.app.close();
  }
}
