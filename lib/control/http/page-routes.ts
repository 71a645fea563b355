/**
 * The panel page at `/`: a few small files (HTML, a JavaScript module, CSS, an icon) with no build step, read once at start
 * and served from memory with an ETag, under a Content-Security-Policy that allows only this origin's scripts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** The page's sources (dist/lib/control/http → the package's lib/control/http/page). */
const PAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../lib/control/http/page');

const FILES = [
  { route: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { route: '/panel.js', file: 'panel.js', type: 'text/javascript; charset=utf-8' },
  { route: '/panel.css', file: 'panel.css', type: 'text/css; charset=utf-8' },
  { route: '/favicon.svg', file: 'favicon.svg', type: 'image/svg+xml' },
];

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function registerPage(app: FastifyInstance): void {
  for (const { route, file, type } of FILES) {
    const body = readFileSync(path.join(PAGE_DIR, file));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    app.get(route, { schema: { hide: true } }, async (request, reply) => {
      reply.headers({ ...SECURITY_HEADERS, etag, 'cache-control': 'no-cache' }).type(type);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(body);
    });
  }
}
