import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PresencedError } from '../errors.js';
import type { Logger } from '../util/log.js';
import type { PresenceCommands } from './commands.js';
import { formatReload, type ReloadPart } from './format.js';
import { CONTROL_SOCKET, MAX_CONTROL_REQUEST, type ControlRequest, type ControlResponse } from './control-protocol.js';

export interface ControlServerOptions {
  /** The socket is `presenced.sock` in this directory. */
  dataDir: string;
  log: Logger;
  /** Members of this group may use the CLI too (--control-group): socket 0660, data directory 0710, both this group's. */
  group?: { name: string; gid: number };
}

/** What the CLI can ask for, once the server is up. */
export interface ControlServices {
  commands: PresenceCommands;
  /** Re-reads the configuration files, as SIGHUP does, and says what each part did. */
  reload: () => ReloadPart[];
}

/**
 * The daemon's end of the `presencestate` and `devicestate` CLIs: a Unix socket in the data directory. It is also the
 * directory's lock: it listens before the store is opened, and a second presenced finding it answered stops there.
 * Until `serve` is called, requests are answered that presenced is starting.
 */
export class ControlServer {
  private server: net.Server | undefined;
  readonly socketPath: string;
  private services: ControlServices | undefined;
  private readonly log: Logger;
  private readonly group: ControlServerOptions['group'];

  constructor({ dataDir, log, group }: ControlServerOptions) {
    this.socketPath = path.join(dataDir, CONTROL_SOCKET);
    this.log = log;
    this.group = group;
  }

  /** From now on requests are carried out. */
  serve(services: ControlServices): void {
    this.services = services;
  }

  async listen(): Promise<void> {
    await this.clearStaleSocket();
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(this.socketPath, 0o600);
    if (this.group) this.shareWith(this.group);
  }

  /** The group may reach the socket (x on the directory, rw on the socket) but read nothing else in the directory. */
  private shareWith({ name, gid }: { name: string; gid: number }): void {
    const dataDir = path.dirname(this.socketPath);
    try {
      fs.chownSync(dataDir, -1, gid);
      fs.chmodSync(dataDir, 0o710);
      fs.chownSync(this.socketPath, -1, gid);
      fs.chmodSync(this.socketPath, 0o660);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new Error(`cannot give the control socket to group '${name}' (${code}): presenced's user must be a member of that group`);
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  /** A socket file left by a killed daemon is removed; one a live daemon answers on means we must not start. */
  private async clearStaleSocket(): Promise<void> {
    if (!fs.existsSync(this.socketPath)) return;
    const alive = await new Promise<boolean>((resolve) => {
      const probe = net.connect(this.socketPath, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (alive) throw new Error(`another presenced is already running with this data directory (${this.socketPath} answers)`);
    fs.rmSync(this.socketPath, { force: true });
  }

  private accept(socket: net.Socket): void {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_CONTROL_REQUEST) {
        this.log.warn('control: request too large, closing');
        socket.destroy();
        return;
      }
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      socket.removeAllListeners('data');
      void this.answer(buffered.slice(0, end)).then((response) => socket.end(JSON.stringify(response) + '\n'));
    });
  }

  private async answer(line: string): Promise<ControlResponse> {
    let request: ControlRequest;
    try {
      request = JSON.parse(line) as ControlRequest;
    } catch {
      this.log.warn('control: malformed request');
      return { ok: false, error: 'malformed request' };
    }
    const { services } = this;
    if (!services) return { ok: false, error: 'presenced is starting; try again in a moment' };
    const { commands } = services;
    try {
      switch (request.command) {
        case 'change': {
          const result = await commands.change(String(request.entity), String(request.value));
          return { ok: true, result };
        }
        case 'list':
          return { ok: true, result: commands.list() };
        case 'hints':
          return { ok: true, result: commands.hints(optionalText(request.exten)) };
        case 'subscriptions':
          return { ok: true, result: commands.subscriptions(optionalText(request.resource)) };
        case 'subscription-kick': {
          const result = commands.kickSubscription(String(request.id));
          this.log.info(`control: subscription ${result.id} of ${result.watcher} to ${result.resource} ended (deactivated)`);
          return { ok: true, result };
        }
        case 'publications':
          return { ok: true, result: commands.publications() };
        case 'publication-remove':
          return { ok: true, result: await commands.removePublication(String(request.etag)) };
        case 'reload': {
          const parts = services.reload();
          // A part that could not be read keeps its previous version: the command failed, and says which part.
          if (parts.some((part) => !part.ok)) return { ok: false, error: formatReload(parts).trimEnd() };
          return { ok: true, result: parts };
        }
        case 'stats':
          return { ok: true, result: commands.stats() };
        case 'device-change': {
          const result = await commands.changeDevice(String(request.device), String(request.state));
          this.log.info(`control: Custom:${result.name} set to ${result.stateText}`);
          return { ok: true, result };
        }
        case 'device-list':
          return { ok: true, result: commands.deviceList() };
        default:
          return { ok: false, error: `unknown command '${(request as { command?: unknown }).command}'` };
      }
    } catch (error) {
      if (error instanceof PresencedError) {
        this.log.info(`control: refused: ${error.message}`);
        return { ok: false, error: error.message, code: error.code };
      }
      this.log.error(`control: ${(error as Error).stack ?? String(error)}`);
      return { ok: false, error: `internal error: ${(error as Error).message}` };
    }
  }
}

/** A request field that may be absent; anything present is taken as text. */
function optionalText(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}
