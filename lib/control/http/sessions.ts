/**
 * The page's login sessions: an unguessable token in a cookie (HttpOnly, SameSite=Strict, expiring), kept in memory
 * (a restart logs everyone out, which the page answers by showing the login form again).
 */
import { randomBytes } from 'node:crypto';
import type { Caller } from './accounts.js';

export const SESSION_COOKIE = 'presenced_session';

export interface SessionSettings {
  /** A session ends this long after login. */
  lifetimeMs: number;
  /** Sessions kept at most; the oldest are dropped first. */
  maxSessions: number;
}

export const DEFAULT_SESSIONS: SessionSettings = { lifetimeMs: 12 * 3600_000, maxSessions: 10_000 };

interface Session { caller: Exclude<Caller, { role: 'anonymous' }>; expiresAt: number }

export class Sessions {
  // Insertion order is login order, so the first entries are the oldest.
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly settings: SessionSettings = DEFAULT_SESSIONS) {}

  create(caller: Session['caller'], now = Date.now()): string {
    const token = randomBytes(32).toString('base64url');
    this.sessions.set(token, { caller, expiresAt: now + this.settings.lifetimeMs });
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size <= this.settings.maxSessions) break;
      this.sessions.delete(oldest);
    }
    return token;
  }

  get(token: string, now = Date.now()): Session['caller'] | undefined {
    const session = this.sessions.get(token);
    if (session && session.expiresAt <= now) this.sessions.delete(token);
    return session && session.expiresAt > now ? session.caller : undefined;
  }

  end(token: string): void {
    this.sessions.delete(token);
  }

  /** The Set-Cookie value that starts a session. */
  cookie(token: string): string {
    return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.settings.lifetimeMs / 1000)}`;
  }
}

/** The Set-Cookie value that ends one. */
export const EXPIRED_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

/** The session token in a Cookie header, if any. */
export function sessionToken(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}
