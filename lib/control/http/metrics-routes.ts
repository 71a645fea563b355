/**
 * `GET /metrics`: the Prometheus text format (lib/metrics), for a scraper. Like `/healthz` it needs no login: it holds
 * counts only, no names; bind --http to a private address or firewall it (docs/OPERATIONS.md).
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';

export function registerMetricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.text();
    return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
  });
}
