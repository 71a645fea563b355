/**
 * `GET /healthz` for load balancers and service checks: 200 while this node can take new phones, 503 while it cannot —
 * its store refuses writes (a new SUBSCRIBE or PUBLISH would get 503) or overload control is shedding new work. The
 * body says which check failed. No login: it tells nothing about anyone's presence.
 */
import type { FastifyInstance } from 'fastify';

export interface HealthChecks {
  /** Whether state and subscription writes reach the store now. */
  storeWritable: () => boolean;
  /** Whether overload control is refusing new SUBSCRIBEs and PUBLISHes now. */
  overloaded: () => boolean;
}

export function registerHealthRoutes(app: FastifyInstance, checks: HealthChecks): void {
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    const results = {
      store: checks.storeWritable() ? 'ok' : 'failing: writes are refused or being retried',
      overload: checks.overloaded() ? 'failing: new SUBSCRIBEs and PUBLISHes get 503' : 'ok',
    };
    const healthy = Object.values(results).every((result) => result === 'ok');
    return reply.code(healthy ? 200 : 503).header('cache-control', 'no-store')
      .send({ status: healthy ? 'ok' : 'unavailable', checks: results });
  });
}
