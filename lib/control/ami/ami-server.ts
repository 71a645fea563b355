/**
 * The AMI listener (`--ami HOST:PORT`): accepts manager connections, answers their actions through the same
 * PresenceCommands as the CLI, and turns every presence change, whatever its source, into events for the
 * connected clients. Connections are capped in number, per address too, and those not logged in more tightly, per address
 * (manager.conf authlimit).
 */
import net from 'node:net';
import type { Dialplan } from '../../presence/hints.js';
import type { PresenceService } from '../../presence/presence-service.js';
import type { PresenceState } from '../../presence/state.js';
import { formatHostPort } from '../../sip/transport.js';
import type { Logger } from '../../util/log.js';
import type { PresenceCommands } from '../commands.js';
import { AmiActions } from './ami-actions.js';
import type { AmiConfig } from './ami-config.js';
import { deviceStateChangeEvent, extensionStatusEvent, hintsWithDevice, presenceStateChangeEvent, presenceStatusEvents } from './ami-events.js';
import type { DeviceService } from '../../devices/device-service.js';
import type { DeviceState, ExtensionState } from '../../devices/device-state.js';
import { DEFAULT_THROTTLE, LoginThrottle, type ThrottleSettings } from './ami-login-throttle.js';
import { AMI_CLASSES } from './ami-permissions.js';
import { AmiSession } from './ami-session.js';

export interface AmiLimits {
  /** Longest request line; a longer one is discarded and its request answered with an error. */
  maxLineLength: number;
  /** Most lines in one request. */
  maxLines: number;
  /** Unread output a client may have pending before it is dropped. */
  maxBufferedBytes: number;
  /** Requests read ahead of the answers before reading pauses. */
  maxPendingRequests: number;
  /** Connections open at once, logged in or not. */
  maxSessions: number;
  /** Connections open at once from one address, logged in or not. */
  maxSessionsPerAddress: number;
  login: ThrottleSettings;
}

export const DEFAULT_AMI_LIMITS: AmiLimits = {
  maxLineLength: 4096,
  maxLines: 128,
  maxBufferedBytes: 1024 * 1024,
  maxPendingRequests: 64,
  maxSessions: 1000,
  maxSessionsPerAddress: 100,
  login: DEFAULT_THROTTLE,
};

export interface AmiServices {
  /** Validation and changes, shared with the CLI. */
  commands: PresenceCommands;
  /** Its 'change' events become PresenceStateChange and PresenceStatus events. */
  presence: PresenceService;
  /** Its 'change' events become DeviceStateChange and ExtensionStatus events. */
  devices: DeviceService;
  /** The current dialplan: hints to raise PresenceStatus for. */
  dialplan: () => Dialplan;
  /** Where ExtensionState looks when the request names no Context (the SUBSCRIBE context). */
  defaultContext: string;
  log: Logger;
}

export class AmiServer {
  private server: net.Server | undefined;
  private readonly sessions = new Set<AmiSession>();
  private readonly actions: AmiActions;
  /** Set once a connection was refused, so that a flood is logged once, not per connection. */
  private refusing = false;
  private readonly onChange = (provider: string, state: PresenceState): void => this.raise(provider, state);
  private readonly onDeviceChange = (device: string, state: DeviceState): void => this.raiseDevice(device, state);
  /** The extension state last reported per hint ('exten@context'), so ExtensionStatus follows real changes only. */
  private readonly reported = new Map<string, ExtensionState>();

  constructor(
    private readonly listenOn: { host: string; port: number },
    private config: AmiConfig,
    private readonly services: AmiServices,
    private readonly limits: AmiLimits = DEFAULT_AMI_LIMITS,
  ) {
    this.actions = new AmiActions({
      commands: services.commands,
      users: () => this.config.users,
      throttle: new LoginThrottle(limits.login),
      log: services.log,
      defaultContext: services.defaultContext,
      startedAt: Date.now(),
    });
  }

  async listen(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenOn.port, this.listenOn.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.services.presence.on('change', this.onChange);
    this.services.devices.on('change', this.onDeviceChange);
  }

  /** "127.0.0.1:5038", the bound address (the real port when 0 was asked for). */
  describeAddress(): string {
    const bound = this.server?.address() as net.AddressInfo | null | undefined;
    return bound ? formatHostPort(bound.address, bound.port) : formatHostPort(this.listenOn.host, this.listenOn.port);
  }

  /** Open AMI connections, logged in or not (metrics). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A re-read manager.conf: new logins use it; logged-in sessions keep the rights they logged in with, as in Asterisk. */
  useConfig(config: AmiConfig): void {
    this.config = config;
  }

  async close(): Promise<void> {
    this.services.presence.off('change', this.onChange);
    this.services.devices.off('change', this.onDeviceChange);
    const server = this.server;
    this.server = undefined;
    for (const session of this.sessions) session.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const { general } = this.config;
    const address = socket.remoteAddress;
    // authlimit counts per address (Asterisk counts them all): idle connections from one host lock out only that host.
    let fromAddress = 0;
    let waiting = 0;
    for (const session of this.sessions) {
      if (session.remoteAddress !== address) continue;
      fromAddress++;
      if (!session.user) waiting++;
    }
    if (address === undefined || this.sessions.size >= this.limits.maxSessions || fromAddress >= this.limits.maxSessionsPerAddress ||
      waiting >= general.authLimit) {
      // No address: the client is already gone.
      if (address !== undefined && !this.refusing) {
        this.services.log.warn(`ami: too many connections (${this.sessions.size} open, ${fromAddress} from ${address}, ${waiting} of them not logged in); refusing new ones`);
      }
      this.refusing ||= address !== undefined;
      socket.destroy();
      return;
    }
    this.refusing = false;
    const session = new AmiSession(socket, address, { ...this.limits, authTimeoutMs: general.authTimeoutMs }, {
      answer: (framed, from) => this.actions.run(framed, from),
      closed: (closed) => this.sessions.delete(closed),
    }, this.services.log);
    this.sessions.add(session);
  }

  /** One presence change: a PresenceStateChange, then a PresenceStatus per hint using the provider. */
  private raise(provider: string, state: PresenceState): void {
    if (!this.anyoneReadsCallEvents()) return;
    const options = { timestamp: this.config.general.timestampEvents };
    const events = [
      presenceStateChangeEvent(provider, state, options),
      ...presenceStatusEvents(this.services.dialplan(), provider, state, options),
    ];
    for (const session of this.sessions) {
      for (const event of events) session.deliver(event);
    }
  }

  /** One device change: a DeviceStateChange, then an ExtensionStatus per hint whose extension state it changed. */
  private raiseDevice(device: string, state: DeviceState): void {
    const options = { timestamp: this.config.general.timestampEvents };
    const events = [deviceStateChangeEvent(device, state, options)];
    for (const hint of hintsWithDevice(this.services.dialplan(), device, (hint) => this.services.devices.devicesOf(hint))) {
      const key = `${hint.exten}@${hint.context}`;
      const extensionState = this.services.devices.extensionState(hint);
      if (this.reported.get(key) === extensionState) continue;
      this.reported.set(key, extensionState);
      events.push(extensionStatusEvent(hint, extensionState, options));
    }
    if (!this.anyoneReadsCallEvents()) return;
    for (const session of this.sessions) {
      for (const event of events) session.deliver(event);
    }
  }

  /** Events are only built when some logged-in client could receive them. */
  private anyoneReadsCallEvents(): boolean {
    for (const session of this.sessions) {
      if (session.user && (session.user.read & AMI_CLASSES.call) !== 0) return true;
    }
    return false;
  }
}
