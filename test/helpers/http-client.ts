// A small client for the HTTP API over real sockets (Node's fetch): JSON in, status, headers and JSON out.
import http from 'node:http';
import { expect } from 'chai';

export interface ApiRequest {
  method?: string;
  /** Sent as JSON (content-type application/json) unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
  /** [username, password] for HTTP Basic. */
  basic?: [string, string];
  /** A session cookie, as `login` returns it. */
  cookie?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  json: T;
  text: string;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Asserts an error answer from the registry: its status and code, and a message; returns the message. */
export function expectError(response: { status: number; json: unknown }, status: number, code: string): string {
  expect(response.status, JSON.stringify(response.json)).to.equal(status);
  const { error } = response.json as ErrorBody;
  expect(error.code).to.equal(code);
  expect(error.message).to.be.a('string').and.not.equal('');
  return error.message;
}

export class ApiClient {
  constructor(readonly port: number) {}

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async request<T = unknown>(path: string, options: ApiRequest = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.basic) headers.authorization = `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`;
    if (options.cookie) headers.cookie = options.cookie;
    const response = await fetch(this.url(path), { method: options.method ?? 'GET', headers, body });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json: json as T, text };
  }

  /** Logs in through the page's route; returns the session cookie (`name=value`). */
  async login(username: string, password: string): Promise<string> {
    const response = await this.request('/api/v1/login', { method: 'POST', body: { username, password } });
    if (response.status !== 200) throw new Error(`login as ${username}: ${response.status} ${response.text}`);
    const setCookie = response.headers.get('set-cookie') ?? '';
    return setCookie.split(';')[0];
  }
}

export interface ServerSentEvent {
  id?: string;
  event: string;
  data: string;
}

/** An open `text/event-stream` response read event by event, over a real socket. */
export class EventStreamReader {
  private readonly events: ServerSentEvent[] = [];
  private readonly waiters: Array<() => void> = [];
  private buffer = '';
  private closed = false;
  readonly status: number;
  readonly contentType: string;

  private constructor(private readonly request: http.ClientRequest, response: http.IncomingMessage) {
    this.status = response.statusCode ?? 0;
    this.contentType = String(response.headers['content-type'] ?? '');
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.receive(chunk));
    response.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number, options: { cookie?: string; basic?: [string, string]; lastEventId?: string } = {}): Promise<EventStreamReader> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.cookie) headers.cookie = options.cookie;
    if (options.basic) headers.authorization = `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`;
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    return new Promise((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers }, (response) => resolve(new EventStreamReader(request, response)));
      request.once('error', reject);
    });
  }

  /** The next event of type `event` (others before it are skipped); fails after `timeoutMs`. */
  async next(event: string, timeoutMs = 5000): Promise<ServerSentEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.events.findIndex((candidate) => candidate.event === event);
      if (at >= 0) return this.events.splice(0, at + 1)[at];
      if (this.closed) throw new Error(`the event stream closed before a '${event}' event`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${event}' event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Every event received and not yet taken. */
  pending(): ServerSentEvent[] {
    return [...this.events];
  }

  close(): Promise<void> {
    this.request.destroy();
    return Promise.resolve();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        fields.set(name, colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, ''));
      }
      if (fields.has('data')) this.events.push({ id: fields.get('id'), event: fields.get('event') ?? 'message', data: fields.get('data') ?? '' });
    }
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
