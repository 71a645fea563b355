// A small client for the HTTP API over real sockets (Node's fetch): JSON in, status, headers and JSON out.

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
