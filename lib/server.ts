import fs from 'node:fs';
import { PresenceCommands } from './control/commands.js';
import { ControlServer } from './control/control-server.js';
import { Dialplan } from './presence/hints.js';
import { PresenceService } from './presence/presence-service.js';
import type { TimerSettings } from './sip/client-transaction.js';
import { MethodRouter } from './sip/router.js';
import { SipStack } from './sip/stack.js';
import { DEFAULT_TCP_LIMITS, TcpTransport } from './sip/tcp-transport.js';
import { formatHostPort, type Transport } from './sip/transport.js';
import { UdpTransport } from './sip/udp-transport.js';
import { openStore, type Store, type StoreKind } from './store/store.js';
import { Notifier } from './subscriptions/notifier.js';
import { ACCEPTED_TYPES, EVENT_PACKAGE, SubscribeHandler, type ExpiryPolicy } from './subscriptions/subscribe-handler.js';
import { SubscriptionManager } from './subscriptions/subscription-manager.js';
import { restoreSubscription, SubscriptionJournal } from './subscriptions/subscription-journal.js';
import type { DeliveryPolicy } from './subscriptions/delivery-policy.js';
import type { Logger } from './util/log.js';

export interface ServerConfig {
  configFile: string;
  udp: { host: string; port: number } | undefined;
  tcp: { host: string; port: number } | undefined;
  dataDir: string;
  context: string;
  expiry: ExpiryPolicy;
  timers: TimerSettings;
  tcpIdleTimeoutMs: number;
  delivery: DeliveryPolicy;
  store: StoreKind;
}

/** The composition root: builds every module, wires them, and owns start, reload and stop. */
export class PresenceServer {
  private store: Store | undefined;
  private stack: SipStack | undefined;
  private control: ControlServer | undefined;
  private manager: SubscriptionManager | undefined;
  private subscribeHandler: SubscribeHandler | undefined;
  private dialplan: Dialplan;

  constructor(private readonly config: ServerConfig, private readonly log: Logger) {
    this.dialplan = this.loadDialplan();
  }

  async start(): Promise<void> {
    const { config, log } = this;
    fs.mkdirSync(config.dataDir, { recursive: true });
    this.store = await openStore(config.store, config.dataDir);
    const presence = new PresenceService(this.store);
    await presence.load();

    const journal = new SubscriptionJournal(this.store, log);
    const manager = new SubscriptionManager(journal, log);
    this.manager = manager;
    const transports: Transport[] = [];
    if (config.udp) transports.push(new UdpTransport(config.udp.host, config.udp.port));
    if (config.tcp) {
      const limits = { ...DEFAULT_TCP_LIMITS, idleTimeoutMs: config.tcpIdleTimeoutMs };
      transports.push(new TcpTransport(config.tcp.host, config.tcp.port, log, limits, (id) => manager.usesConnection(id)));
    }
    const stack = new SipStack(transports, log, config.timers);
    this.stack = stack;
    const notifier = new Notifier(stack, presence, journal, config.delivery, log, (subscription) => manager.drop(subscription));
    manager.attach(notifier, presence);
    this.subscribeHandler = new SubscribeHandler(manager, this.dialplan, config.context, config.expiry, log);

    const router = new MethodRouter({ accept: ACCEPTED_TYPES, allowEvents: [EVENT_PACKAGE] }).on('SUBSCRIBE', this.subscribeHandler.handle);
    await stack.start(router.handle);
    const restored = await manager.restore(this.dialplan, restoreSubscription);
    if (restored > 0) log.info(`restored ${restored} subscription(s)`);

    this.control = new ControlServer(config.dataDir, new PresenceCommands(presence, manager, () => this.dialplan), log);
    await this.control.listen();
  }

  /** "udp:127.0.0.1:5060 tcp:127.0.0.1:5060" — what the startup line shows. */
  describeListening(): string {
    return (this.stack?.listening() ?? []).map((t) => `${t.protocol.toLowerCase()}:${formatHostPort(t.address.host, t.address.port)}`).join(' ');
  }

  get hintCount(): number {
    return this.dialplan.hints.length;
  }

  /** SIGHUP: re-read the dialplan; a file that cannot be read keeps the old one. */
  reload(): void {
    let next: Dialplan;
    try {
      next = this.loadDialplan();
    } catch (error) {
      this.log.error(`reload: ${(error as Error).message}; keeping the previous dialplan`);
      return;
    }
    this.dialplan = next;
    this.subscribeHandler?.useDialplan(next);
    this.manager?.reresolve(next);
    this.log.info(`reload: ${next.hints.length} hints from ${this.config.configFile}`);
  }

  /** Stops listening and closes the store. Subscriptions are left as they are, not terminated. */
  async stop(): Promise<void> {
    await this.control?.close();
    await this.manager?.stop();
    await this.stack?.stop();
    await this.store?.close();
  }

  private loadDialplan(): Dialplan {
    const dialplan = Dialplan.load(this.config.configFile);
    for (const d of dialplan.diagnostics) this.log.warn(`${d.file}:${d.line}: ${d.message}`);
    if (!dialplan.hasContext(this.config.context)) this.log.warn(`context '${this.config.context}' is not in ${this.config.configFile}: every SUBSCRIBE will get 404`);
    return dialplan;
  }
}
