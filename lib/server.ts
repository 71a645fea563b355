import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { loadAmiConfig, type AmiConfig } from './control/ami/ami-config.js';
import { AmiServer } from './control/ami/ami-server.js';
import { PresenceCommands } from './control/commands.js';
import { DeviceService } from './devices/device-service.js';
import { DialogPackage } from './devices/dialog-package.js';
import { DIALOG_PUBLISHING, PublishedDialogs } from './devices/published-dialogs.js';
import { ControlServer } from './control/control-server.js';
import type { ReloadPart } from './control/format.js';
import { HintDirectory } from './presence/hint-directory.js';
import { PresenceService } from './presence/presence-service.js';
import { PRESENCE_PUBLISHING, PublishHandler } from './presence/publish-handler.js';
import { MethodRouter } from './sip/router.js';
import { pipeline } from './sip/pipeline.js';
import { AddressGate } from './security/address-gate.js';
import { AuthFailures, DEFAULT_FAILURE_SETTINGS } from './security/auth-failures.js';
import { Authenticator } from './security/authenticator.js';
import { EndpointDirectory } from './security/endpoint-directory.js';
import { NonceCounts, NonceIssuer } from './security/nonces.js';
import { loadServerSecret } from './security/server-secret.js';
import { SipStack } from './sip/stack.js';
import { DEFAULT_STREAM_LIMITS, StreamTransport, TCP_STREAMS } from './sip/stream-transport.js';
import { formatHostPort, parseListenAddress, type Transport } from './sip/transport.js';
import { UdpTransport } from './sip/udp-transport.js';
import { TlsCertificates, tlsStreams } from './sip/tls-certificates.js';
import { WsTransport } from './sip/ws-transport.js';
import { refuseUpgrade } from './sip/ws-handshake.js';
import type { Duplex } from 'node:stream';
import { WS, WSS } from './sip/transport.js';
import { openStore, type Store } from './store/store.js';
import { openChangeBus, type ChangeBus } from './store/change-bus.js';
import { LoadMonitor } from './overload/load-monitor.js';
import { NodeLeases } from './cluster/node-leases.js';
import { Notifier } from './subscriptions/notifier.js';
import { SubscribeHandler } from './subscriptions/subscribe-handler.js';
import { EventPackages } from './subscriptions/event-package.js';
import { PresencePackage } from './presence/presence-package.js';
import { ResourceListPackage } from './lists/list-package.js';
import { LIST_EVENTS, resourceListsOf, type ResourceList } from './lists/resource-lists.js';
import { readPjsipSections } from './security/pjsip-sections.js';
import { SubscriptionManager } from './subscriptions/subscription-manager.js';
import { restoreSubscription, SubscriptionJournal } from './subscriptions/subscription-journal.js';
import { FlowPool } from './subscriptions/flow-pool.js';
import { MemoryReclaimer } from './util/memory.js';
import { Accounts } from './control/http/accounts.js';
import { registerAuth } from './control/http/auth.js';
import { HttpServer } from './control/http/http-server.js';
import { registerPresenceRoutes } from './control/http/presence-routes.js';
import { registerSessionRoutes } from './control/http/session-routes.js';
import { Sessions } from './control/http/sessions.js';
import { LoginThrottle } from './control/ami/ami-login-throttle.js';
import { EventLog } from './control/http/event-log.js';
import { registerEventRoutes } from './control/http/events-routes.js';
import { registerExtensionRoutes } from './control/http/extensions-routes.js';
import { registerPage } from './control/http/page-routes.js';
import { registerSettingsRoutes } from './control/http/settings-routes.js';
import { registerStateRoutes } from './control/http/states-routes.js';
import { LoginStates } from './panel/login-states.js';
import { MODE_DEVICES, StateActions } from './panel/state-actions.js';
import { StateList, type StateEntry } from './panel/state-list.js';
import { UserSettingsStore } from './panel/user-settings.js';
import type { Dialplan } from './presence/hints.js';
import type { Logger } from './util/log.js';
import { WebhookSender } from './webhooks/webhook-sender.js';
import { Metrics } from './metrics/metrics.js';
import { registerMetricsRoutes } from './control/http/metrics-routes.js';
import { registerHealthRoutes } from './control/http/health-routes.js';
import type { ServerConfig } from './config/server-config.js';

export type { ServerConfig } from './config/server-config.js';

/** The composition root: builds every module, wires them, and owns start, reload and stop. */
export class PresenceServer {
  private store: Store | undefined;
  private bus: ChangeBus | undefined;
  private loadMonitor: LoadMonitor | undefined;
  private leases: NodeLeases | undefined;
  private stack: SipStack | undefined;
  private control: ControlServer | undefined;
  private manager: SubscriptionManager | undefined;
  private presence: PresenceService | undefined;
  private devices: DeviceService | undefined;
  private publishedDialogs: PublishedDialogs | undefined;
  private readonly hints: HintDirectory;
  private ami: AmiServer | undefined;
  private reclaimer: MemoryReclaimer | undefined;
  private amiConfig: AmiConfig | undefined;
  private http: HttpServer | undefined;
  private readonly listPackages: ResourceListPackage[] = [];
  private endpoints: EndpointDirectory | undefined;
  private webhooks: WebhookSender | undefined;
  private readonly metrics: Metrics;
  private certificates: TlsCertificates | undefined;

  constructor(private readonly config: ServerConfig, private readonly log: Logger) {
    this.hints = new HintDirectory({ file: config.dialplanFile, context: config.context, allowEmpty: config.allowEmptyDialplan, log });
    this.metrics = new Metrics({
      subscriptions: () => [...(this.manager?.all() ?? [])].map((subscription) => ({ event: subscription.eventPackage.event, transport: subscription.flow.kind.via })),
      connections: () => (this.stack?.listening() ?? []).flatMap((transport) =>
        transport instanceof StreamTransport || transport instanceof WsTransport ? [{ transport: transport.kind.via, count: transport.connectionCount }] : []),
      publications: () => this.presence?.publications.size ?? 0,
      amiSessions: () => this.ami?.sessionCount ?? 0,
      overloaded: () => this.loadMonitor?.overloaded() ?? false,
    });
  }

  async start(): Promise<void> {
    const { config, log } = this;
    // Read before anything listens, so that an unreadable users file stops the start.
    const amiConfig = config.ami && this.loadAmiConfig(config.ami.configFile);
    this.amiConfig = amiConfig || undefined;
    const lists = this.loadLists();
    const endpoints = new EndpointDirectory(config.pjsipFile, log);
    this.endpoints = endpoints;
    const certificates = config.tls && new TlsCertificates(config.tls, log);
    this.certificates = certificates || undefined;
    if (certificates) log.info(`TLS certificates: ${certificates.describe()}`);
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // The store holds every state and dialog, the control socket changes them: for this user only.
    try {
      fs.chmodSync(config.dataDir, 0o700);
    } catch (error) {
      log.warn(`cannot make ${config.dataDir} private (0700): ${(error as Error).message}`);
    }
    // The control socket is the data directory's lock: a second presenced on it stops here, before opening the store.
    this.control = new ControlServer({ dataDir: config.dataDir, log, group: config.controlGroup });
    await this.control.listen();
    this.store = this.metrics.timed(await openStore(config.store, config.dataDir, (message) => log.warn(`store: ${message}`)));
    this.bus = await openChangeBus(config.store);
    const presence = new PresenceService({ store: this.store, bus: this.bus, node: config.node, log, caps: config.limits });
    this.presence = presence;
    await presence.load();
    const devices = new DeviceService({ store: this.store, bus: this.bus, node: config.node, log });
    this.devices = devices;
    const publishedDialogs = new PublishedDialogs({ store: this.store, devices, log, caps: config.limits });
    this.publishedDialogs = publishedDialogs;
    await devices.load();
    await publishedDialogs.load();
    this.sendWebhooks(presence, devices);

    const journal = new SubscriptionJournal(this.store, log, config.node);
    const packages = new EventPackages();
    const manager = new SubscriptionManager(journal, packages, log, config.limits);
    this.manager = manager;
    const transports: Transport[] = config.listeners.map(({ transport, host, port }) => {
      if (transport === 'UDP') return new UdpTransport(host, port);
      const limits = { ...DEFAULT_STREAM_LIMITS, ...config.streams, idleTimeoutMs: config.tcpIdleTimeoutMs, maxMessageBytes: config.limits.maxRequestBytes };
      if (transport === 'WS' || transport === 'WSS') return this.webSocketTransport(transport, host, port);
      return new StreamTransport(transport === 'TLS' && certificates ? tlsStreams(certificates) : TCP_STREAMS, host, port, log, limits);
    });
    const reclaimer = new MemoryReclaimer(log);
    this.reclaimer = reclaimer;
    reclaimer.watchIdleHeap();
    const stack = new SipStack(transports, log, config.timers, (ended, left) => reclaimer.transactionsEnded(ended, left), config.limits);
    this.stack = stack;
    stack.observe(this.metrics.sip);
    const udpSockets = transports.filter((transport): transport is UdpTransport => transport instanceof UdpTransport);
    this.loadMonitor = new LoadMonitor(config.overload, log, () => udpSockets.reduce((longest, udp) => Math.max(longest, udp.queueDelayMs()), 0));
    stack.useOverloadGate(this.loadMonitor);
    this.loadMonitor.start();
    const notifier = new Notifier({ stack, journal, policy: config.delivery, log, onGone: (subscription) => manager.drop(subscription) });
    manager.attach(notifier);
    manager.onFanOutDone = (seconds) => this.metrics.fanOutDone(seconds);
    presence.on('change', (_provider, _state, _record, source) => this.metrics.stateChanged(source));
    devices.on('change', () => this.metrics.deviceChanged());
    presence.on('change', (provider) => manager.stateChanged(provider));
    devices.on('change', (device) => manager.stateChanged(device));
    const flows = new FlowPool();
    const { hints } = this;
    const { context, expiry } = config;
    const publishHandler = new PublishHandler({ publications: presence.publications, event: PRESENCE_PUBLISHING, hints, context, expiry, log });
    packages.register(new PresencePackage(presence, devices, publishHandler.handle));
    const dialogPublishHandler = new PublishHandler({ publications: publishedDialogs.publications, event: DIALOG_PUBLISHING, hints, context, expiry, log });
    packages.register(new DialogPackage(devices, dialogPublishHandler.handle));
    this.serveLists(packages, lists);
    for (const listPackage of this.listPackages) presence.on('change', (provider) => listPackage.stateChanged(provider));
    for (const listPackage of this.listPackages) devices.on('change', (device) => listPackage.stateChanged(device));
    const subscribeHandler = new SubscribeHandler({ manager, packages, flows, hints, context, expiry, digiumMode: config.digiumTuple, log, maxDialogBytes: config.limits.maxDialogBytes });
    hints.on('reload', (dialplan) => manager.reresolve(dialplan));

    const router = new MethodRouter({ accept: packages.bodyTypes, allowEvents: packages.events }).on('SUBSCRIBE', subscribeHandler.handle)
      .on('PUBLISH', packages.dispatchPublish);
    const { security } = config;
    const failures = new AuthFailures({ ...DEFAULT_FAILURE_SETTINGS, ban: security.ban });
    const authenticator = new Authenticator({
      security: () => endpoints.current,
      nonces: new NonceIssuer(loadServerSecret(config.dataDir), security.nonceLifetimeMs),
      counts: new NonceCounts(security.nonceLifetimeMs),
      failures,
      log,
    });
    const gate = new AddressGate({ security: () => endpoints.current, failures, silent: security.aclSilent });
    await stack.start(pipeline([authenticator.step], router.handle), (connection) => manager.connectionClosed(connection), gate.admit);
    this.refuseDialingOurselves();
    const restored = await manager.restore(hints.current, (persisted, eventPackage, hint) => restoreSubscription(persisted, eventPackage, hint, flows));
    if (restored > 0) log.info(`restored ${restored} subscription(s)`);
    this.leases = new NodeLeases({
      store: this.store, node: config.node, leaseMs: config.leaseMs, log,
      adopt: (node) => manager.adopt(node, hints.current, (persisted, eventPackage, hint) => restoreSubscription(persisted, eventPackage, hint, flows)),
    });
    await this.leases.start();

    const commands = new PresenceCommands({ presence, manager, dialplan: () => hints.current, devices, context: config.context });
    this.control.serve({ commands, reload: () => this.reload() });
    if (config.ami && amiConfig) {
      const services = { commands, presence, devices, dialplan: () => hints.current, defaultContext: config.context, log };
      this.ami = new AmiServer(config.ami, amiConfig, services);
      await this.ami.listen();
    }
    if (config.http) await this.startHttp(config.http, commands, presence, devices, this.store);
    this.refuseDialingOurselves();
  }

  /** Every change made here goes to the webhooks (a change another node made is that node's to send). */
  private sendWebhooks(presence: PresenceService, devices: DeviceService): void {
    if (this.config.webhooks.urls.length === 0) return;
    const webhooks = new WebhookSender(this.config.webhooks, this.log, `presenced/${PACKAGE_VERSION}`);
    this.webhooks = webhooks;
    presence.on('change', (_provider, state, record, source) => {
      if (source !== 'cluster') webhooks.send({ event: 'presence', name: record.name, ...state, source });
    });
    devices.on('change', (device, state, origin) => {
      if (origin === 'local') webhooks.send({ event: 'device', device, state });
    });
  }

  /** D7: a Contact naming one of our own listening addresses (the AMI port…) must never make us connect to it. */
  private refuseDialingOurselves(): void {
    const own = this.describeListening().split(' ').map((endpoint) => parseListenAddress(endpoint.slice(endpoint.indexOf(':') + 1))!);
    for (const transport of this.stack?.listening() ?? []) if (transport instanceof StreamTransport) transport.refuseDialing(own);
  }

  private async startHttp(settings: NonNullable<ServerConfig['http']>, commands: PresenceCommands, presence: PresenceService, devices: DeviceService, store: Store): Promise<void> {
    const { config, log, hints } = this;
    const stateList = new StateList(store, log);
    const settingsStore = new UserSettingsStore(store, stateList, log);
    await stateList.load();
    await settingsStore.load();
    const apply = async (user: string, entry: StateEntry, why: string): Promise<void> => {
      await commands.set(user, { state: entry.type, message: entry.message }, `http:${user} (${why})`);
    };
    const loginStates = new LoginStates({ list: stateList, settings: settingsStore, apply, graceMs: settings.logoutGraceMs, log });
    const actions = new StateActions({
      settings: settingsStore, log,
      isUser: (name) => this.endpoints?.current?.endpoints.has(name) ?? false,
      setDevice: (device, state) => commands.changeDevice(device, state),
    });
    presence.on('change', (_provider, state, record, source) => actions.presenceChanged(record.name, state.state, source));
    const http = new HttpServer({ host: settings.host, port: settings.port, log });
    this.http = http;
    http.app.addHook('onClose', async () => actions.stop());
    const accounts = new Accounts({ endpoints: () => this.endpoints?.current?.endpoints.values(), amiUsers: () => this.amiConfig?.users });
    const auth = { accounts, sessions: new Sessions(), throttle: new LoginThrottle(), log };
    const dialplan = (): Dialplan => hints.current;
    const defaultContext = config.context;
    await http.registerOpenApi(PACKAGE_VERSION);
    registerAuth(http.app, auth);
    registerSessionRoutes(http.app, auth, {
      loggedIn: async (caller) => { if (caller.role === 'user') await loginStates.loggedIn(caller.name); },
      loggedOut: async (caller) => { if (caller.role === 'user') await loginStates.loggedOut(caller.name); },
      leaving: (caller) => { if (caller.role === 'user') loginStates.leaving(caller.name); },
    });
    registerPage(http.app);
    registerPresenceRoutes(http.app, { commands, dialplan, defaultContext });
    registerStateRoutes(http.app, stateList);
    registerSettingsRoutes(http.app, settingsStore);
    registerExtensionRoutes(http.app, { commands, accounts, dialplan, defaultContext });
    const ownDevices = (user: string): string[] => Object.values(MODE_DEVICES).map((prefix) => prefix + user);
    registerEventRoutes(http.app, { events: new EventLog(), presence, devices, stateList, loginStates, hints, defaultContext, ownDevices });
    registerMetricsRoutes(http.app, this.metrics);
    registerHealthRoutes(http.app, { storeWritable: () => this.manager?.storeRefusal() === undefined, overloaded: () => this.loadMonitor?.overloaded() ?? false });
    this.serveWebSocketOn(http.app.server);
    await http.listen();
  }

  /** "udp:127.0.0.1:5060 tcp:127.0.0.1:5060 ami:127.0.0.1:5038" — what the startup line shows. */
  describeListening(): string {
    const sip = (this.stack?.listening() ?? []).map((t) => `${t.kind.via.toLowerCase()}:${formatHostPort(t.address.host, t.address.port)}`);
    return [...sip, ...(this.ami ? [`ami:${this.ami.describeAddress()}`] : []), ...(this.http ? [`http:${this.http.describeAddress()}`] : [])].join(' ');
  }

  get hintCount(): number {
    return this.hints.current.hints.length;
  }

  /**
   * SIGHUP and `presencestate reload`: re-read the dialplan (and the AMI users, pjsip.conf and the TLS certificates); a
   * file that cannot be read keeps the old one. Says what each part did.
   */
  reload(): ReloadPart[] {
    const parts: ReloadPart[] = [];
    const ami = this.reloadAmi();
    if (ami) parts.push({ part: 'AMI users', ...ami });
    const lists = this.reloadLists();
    if (lists) parts.push({ part: 'resource lists', ...lists });
    const endpoints = this.endpoints?.reload();
    if (endpoints) parts.push({ part: 'pjsip.conf', ...endpoints });
    const certificates = this.certificates?.reload();
    if (certificates) parts.push({ part: 'TLS certificates', ...certificates });
    const dialplan = this.hints.reload();
    parts.push({ part: 'dialplan', ok: dialplan.ok, detail: dialplan.ok ? `${dialplan.hints} hints from ${dialplan.file}` : `${dialplan.error}; keeping the previous dialplan` });
    return parts;
  }

  /** Stops listening and closes the store. Subscriptions are left as they are, not terminated. */
  async stop(): Promise<void> {
    this.reclaimer?.stop();
    this.webhooks?.stop();
    await this.http?.close();
    await this.ami?.close();
    await this.control?.close();
    await this.manager?.stop();
    this.loadMonitor?.stop();
    await this.leases?.stop();
    await this.stack?.stop();
    this.presence?.stop();
    this.devices?.stop();
    this.publishedDialogs?.stop();
    await this.bus?.close();
    await this.store?.close();
  }

  private webSocketTransport(transport: 'WS' | 'WSS', host: string, port: number): WsTransport {
    const { config, log } = this;
    const policy = { origins: new Set(config.websocket.origins) };
    const { limits } = config.websocket;
    if (transport === 'WS') return new WsTransport(WS, () => http.createServer(), host, port, policy, log, limits);
    const { certificates } = this;
    if (!certificates) throw new Error('--wss needs --tls-cert FILE and --tls-key FILE');
    return new WsTransport(WSS, () => certificates.attach(https.createServer(certificates.serverOptions())), host, port, policy, log, limits);
  }

  /** The resource lists of --pjsip, by event; a file that cannot be used stops the start (file:line). */
  private loadLists(): Map<string, ResourceList> {
    if (this.config.pjsipFile === undefined) return new Map();
    return resourceListsOf(readPjsipSections(this.config.pjsipFile));
  }

  /** With --ws, browser phones may also upgrade on the HTTP port at /ws (one origin for the panel and the phone). */
  private serveWebSocketOn(server: http.Server): void {
    const webSocket = this.stack?.listening().find((transport): transport is WsTransport => transport instanceof WsTransport && transport.kind === WS);
    if (!webSocket) return;
    server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if ((request.url ?? '').replace(/\?.*$/, '') === '/ws') webSocket.upgrade(request, socket, head);
      else refuseUpgrade(socket, { status: 404, reason: 'Not Found', detail: 'the SIP WebSocket service is at /ws' });
    });
  }

  /** One list package over each event's own package (RFC 4662): a SUBSCRIBE to a list name reaches it. */
  private serveLists(packages: EventPackages, lists: Map<string, ResourceList>): void {
    for (const event of LIST_EVENTS) {
      const inner = packages.get(event);
      const mine = listsOf(lists, event);
      if (!inner) {
        for (const list of mine.values()) this.log.warn(`${list.file}:${list.line}: resource list [${list.name}]: no ${event} package here; not served`);
        continue;
      }
      const listPackage = new ResourceListPackage(inner, mine, this.hints, this.config.listServer);
      packages.overlay(listPackage);
      this.listPackages.push(listPackage);
    }
    if (lists.size > 0) this.log.info(`resource lists from ${this.config.pjsipFile}: ${[...lists.keys()].join(', ')}`);
  }

  private reloadLists(): Omit<ReloadPart, 'part'> | undefined {
    if (this.config.pjsipFile === undefined) return undefined;
    try {
      const lists = this.loadLists();
      for (const listPackage of this.listPackages) listPackage.useLists(listsOf(lists, listPackage.event));
      const detail = `${lists.size} resource list(s) from ${this.config.pjsipFile}`;
      this.log.info(`reload: ${detail}`);
      return { ok: true, detail };
    } catch (error) {
      const detail = `${(error as Error).message}; keeping the previous resource lists`;
      this.log.error(`reload: ${detail}`);
      return { ok: false, detail };
    }
  }

  private reloadAmi(): Omit<ReloadPart, 'part'> | undefined {
    if (!this.ami || !this.config.ami) return undefined;
    try {
      const next = this.loadAmiConfig(this.config.ami.configFile);
      // An emptied users file (truncated, overwritten) would lock every manager client out.
      if (next.users.size === 0) throw new Error(`${this.config.ami.configFile} defines no AMI users`);
      this.ami.useConfig(next);
      this.amiConfig = next;
      const detail = `${next.users.size} user(s) from ${this.config.ami.configFile}`;
      this.log.info(`reload: AMI ${detail}`);
      return { ok: true, detail };
    } catch (error) {
      const detail = `${(error as Error).message}; keeping the previous AMI users`;
      this.log.error(`reload: ${detail}`);
      return { ok: false, detail };
    }
  }

  private loadAmiConfig(file: string): AmiConfig {
    const amiConfig = loadAmiConfig(file);
    for (const d of amiConfig.diagnostics) this.log.warn(`${d.file}:${d.line}: ${d.message}`);
    return amiConfig;
  }
}

const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function listsOf(lists: Map<string, ResourceList>, event: string): Map<string, ResourceList> {
  return new Map([...lists].filter(([, list]) => list.event === event));
}
