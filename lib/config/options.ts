/**
 * Every option of presenced, once. Each entry feeds the command-line flag, the presenced.conf key (its section and
 * name), the defaults and docs/CONFIG.md; adding an option is adding one entry here and reading it where it is used.
 * Values are parsed by the entry's `parse`, which throws an Error whose message says what was expected.
 */
import { hostname } from 'node:os';
import { DEFAULT_TIMERS } from '../sip/client-transaction.js';
import { DEFAULT_OVERLOAD } from '../overload/load-monitor.js';
import { LOG_FORMATS } from '../util/log.js';
import type { StoreKind } from '../store/store.js';
import { isRedisUrl, parseRedisUrl } from '../store/redis-url.js';
import { parseListenAddress } from '../sip/transport.js';
import { DEFAULT_DELIVERY } from '../subscriptions/delivery-policy.js';
import { defaultLimits } from '../limits/limits.js';
import { DEFAULT_WS_LIMITS } from '../sip/ws-limits.js';
import { defaultDataDir } from './paths.js';
import { DEFAULT_WEBHOOKS, parseWebhookUrls } from '../webhooks/webhook-sender.js';

/** The sections of presenced.conf, in the order docs and the sample list them. */
export const SECTIONS = ['general', 'sip', 'ami', 'http', 'store', 'limits', 'security'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface OptionSpec<T> {
  /** The flag without its dashes: 'min-expires' → `--min-expires`. */
  flag: string;
  /** What the flag takes, shown in --help and the docs: 'host:port', 's'; '' for a switch that takes nothing. */
  arg: string;
  section: SectionName;
  /** The key in presenced.conf; the flag's name when absent. */
  key?: string;
  help: string;
  /** Absent: the option is unset unless given. */
  default?: T;
  /** How the default reads in --help and the docs, when not its plain value. */
  defaultText?: string;
  /** A value the sample presenced.conf shows, when the default is not a good one to show. */
  example?: string;
  parse: (text: string) => T;
}

/** The typed value of one option: its parse result, `| undefined` when it has no default. */
export type ValueOf<S> = S extends { default: infer T } ? T : S extends OptionSpec<infer T> ? T | undefined : never;

/** The type comes from `parse` alone (NoInfer: a default of 'info' must not narrow a level to one literal). */
function option<T>(spec: Omit<OptionSpec<T>, 'default'> & { default: NoInfer<T> }): OptionSpec<T> & { default: T };
function option<T>(spec: Omit<OptionSpec<T>, 'default'>): OptionSpec<T>;
function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

export function wholeSeconds(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new Error('expected a whole number of seconds');
  return Number(text);
}

export function wholeMilliseconds(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new Error('expected a whole number of milliseconds');
  return Number(text);
}

export function positiveInteger(text: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) throw new Error('expected a positive whole number');
  return Number(text);
}

/** 'HOST:PORT', '[v6]:PORT' or 'off' (undefined). */
export function listenAddress(text: string): { host: string; port: number } | undefined {
  return parseListenAddress(text);
}

export function oneOf<const C extends readonly string[]>(choices: C): (text: string) => C[number] {
  return (text) => {
    if (!(choices as readonly string[]).includes(text)) throw new Error(`expected one of ${choices.join(', ')}`);
    return text;
  };
}

/** 'N/SECONDS' → the ban policy of --auth-ban. */
export function banPolicy(value: string): { failures: number; windowMs: number } {
  const match = /^(\d{1,6})\/(\d{1,7})$/.exec(value.trim());
  if (!match || Number(match[1]) === 0 || Number(match[2]) === 0) throw new Error('expected N/SECONDS, e.g. 5/600');
  return { failures: Number(match[1]), windowMs: Number(match[2]) * 1000 };
}

function yesNo(value: string): boolean {
  if (value !== 'yes' && value !== 'no') throw new Error('expected yes or no');
  return value === 'yes';
}

function text(value: string): string {
  if (value.trim() === '') throw new Error('expected a value');
  return value;
}

/** A SIP URI user (RFC 3261 §25.1 `user`), or 'off' (''). */
function sipUser(value: string): string {
  if (value === 'off') return '';
  if (!/^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$/.test(value)) throw new Error("expected the user part of a SIP URI (e.g. rls) or 'off'");
  return value;
}

export const LOG_LEVEL_CHOICES = ['error', 'warn', 'info', 'debug'] as const;
export const DIGIUM_TUPLE_CHOICES = ['auto', 'always', 'never'] as const;
/** 'sqlite', 'memory' or a Redis URL, checked here so that a wrong URL is refused before anything starts. */
export function storeKind(text: string): StoreKind {
  if (text === 'sqlite' || text === 'memory') return text;
  if (isRedisUrl(text)) {
    parseRedisUrl(text);
    return text as StoreKind;
  }
  throw new Error('expected sqlite, memory or redis://HOST:PORT[/DB]');
}

/** Defaults of the limits, derived from this process's heap limit (see lib/limits/limits.ts). */
const LIMITS = defaultLimits();

export const OPTIONS = {
  dialplan: option({
    flag: 'config', arg: 'file', section: 'general', key: 'dialplan', parse: text,
    help: 'Asterisk extensions.conf with the hints (#include, include =>, patterns with ${EXTEN})',
    defaultText: './extensions.conf, else the bundled sample', example: '/etc/asterisk/extensions.conf',
  }),
  allowEmptyDialplan: option({
    flag: 'allow-empty-dialplan', arg: 'yes|no', section: 'general', default: false, defaultText: 'no', parse: yesNo,
    help: 'accept a dialplan without hints (else it stops the start, and a reload keeps the previous one)',
  }),
  context: option({
    flag: 'context', arg: 'name', section: 'general', default: 'default', parse: text,
    help: 'the dialplan context SUBSCRIBEs and PUBLISHes resolve in',
  }),
  dataDir: option({
    flag: 'data', arg: 'dir', section: 'general', key: 'data', default: defaultDataDir(), parse: text,
    defaultText: '$PRESENCED_DATA, else $XDG_STATE_HOME/presenced, else ~/.local/state/presenced', example: '/var/lib/presenced',
    help: 'state directory: the store (presenced.sqlite) and the control socket (presenced.sock)',
  }),
  controlGroup: option({
    flag: 'control-group', arg: 'group', section: 'general', key: 'control-group', parse: text, defaultText: "none: the daemon's user only", example: 'presenced',
    help: 'Unix group whose members may use presencestate and devicestate: the control socket is made mode 0660 and this group\'s, the data directory 0710',
  }),
  logLevel: option({
    flag: 'log-level', arg: 'level', section: 'general', default: 'info', parse: oneOf(LOG_LEVEL_CHOICES),
    help: `how much to log on stderr: ${LOG_LEVEL_CHOICES.join(', ')}`,
  }),
  logFormat: option({
    flag: 'log-format', arg: 'format', section: 'general', parse: oneOf(LOG_FORMATS),
    help: 'json (one object per line, for log shippers) or pretty (one readable line)', defaultText: 'json when stderr is not a terminal, else pretty',
  }),
  udp: option({
    flag: 'udp', arg: 'host:port', section: 'sip', default: listenAddress('0.0.0.0:5060'), defaultText: '0.0.0.0:5060', parse: listenAddress,
    help: "UDP listen address, or 'off'",
  }),
  tcp: option({
    flag: 'tcp', arg: 'host:port', section: 'sip', default: listenAddress('0.0.0.0:5060'), defaultText: '0.0.0.0:5060', parse: listenAddress,
    help: "TCP listen address, or 'off'",
  }),
  minExpires: option({
    flag: 'min-expires', arg: 's', section: 'sip', default: 60, parse: wholeSeconds,
    help: 'shortest subscription or publication accepted (shorter gets 423)',
  }),
  maxExpires: option({
    flag: 'max-expires', arg: 's', section: 'sip', default: 3600, parse: wholeSeconds,
    help: 'longest subscription or publication granted (longer is shortened)',
  }),
  defaultExpires: option({
    flag: 'default-expires', arg: 's', section: 'sip', default: 3600, parse: wholeSeconds,
    help: 'subscription length when the SUBSCRIBE has no Expires',
  }),
  t1: option({
    flag: 't1', arg: 'ms', section: 'sip', default: DEFAULT_TIMERS.t1, parse: positiveInteger,
    help: 'RFC 3261 T1: first NOTIFY retransmission interval over UDP',
  }),
  t2: option({
    flag: 't2', arg: 'ms', section: 'sip', default: DEFAULT_TIMERS.t2, parse: positiveInteger,
    help: 'RFC 3261 T2: longest NOTIFY retransmission interval',
  }),
  notifyFailures: option({
    flag: 'notify-failures', arg: 'n', section: 'sip', default: DEFAULT_DELIVERY.maxFailures, parse: positiveInteger,
    help: 'NOTIFYs failing in a row (timeout, 408, 5xx) before a subscription is dropped; 481 drops at once',
  }),
  notifyRate: option({
    flag: 'notify-rate', arg: 'n', section: 'sip', default: DEFAULT_DELIVERY.maxRate, parse: positiveInteger,
    help: 'at most this many NOTIFYs per second to one watcher; changes in between coalesce, newest state wins',
  }),
  digiumTuple: option({
    flag: 'digium-tuple', arg: 'mode', section: 'sip', default: 'auto', parse: oneOf(DIGIUM_TUPLE_CHOICES),
    help: 'add the digium_presence tuple: auto (Digium/Sangoma User-Agents), always, never',
  }),
  tcpIdleTimeout: option({
    flag: 'tcp-idle-timeout', arg: 's', section: 'sip', default: 600, parse: wholeSeconds,
    help: 'close TCP and WebSocket connections idle this long, unless a subscription uses them',
  }),
  pjsip: option({
    flag: 'pjsip', arg: 'file', section: 'sip', parse: text, defaultText: 'none',
    help: 'Asterisk pjsip.conf: with endpoints, SUBSCRIBE and PUBLISH need their digest credentials (none: open to anyone); type=acl and type=resource_list sections are served too; re-read on reload',
  }),
  rlsUri: option({
    flag: 'rls-uri', arg: 'user', section: 'sip', default: 'rls', parse: sipUser,
    help: "the list server's user (RFC 5367): a SUBSCRIBE to sip:USER@… with a resource-lists body watches every URI in it, as Linphone's friend lists do; off: none",
  }),
  ws: option({
    flag: 'ws', arg: 'host:port', section: 'sip', parse: listenAddress, defaultText: 'off',
    help: 'SIP over WebSocket (RFC 7118) listen address for browser phones, e.g. 0.0.0.0:8088',
  }),
  wss: option({
    flag: 'wss', arg: 'host:port', section: 'sip', parse: listenAddress, defaultText: 'off',
    help: 'SIP over secure WebSocket listen address, e.g. 0.0.0.0:8089 (needs --tls-cert and --tls-key)',
  }),
  tls: option({
    flag: 'tls', arg: 'host:port', section: 'sip', parse: listenAddress, defaultText: 'off',
    help: 'SIP over TLS listen address, e.g. 0.0.0.0:5061 (needs --tls-cert and --tls-key)',
  }),
  tlsCert: option({
    flag: 'tls-cert', arg: 'file', section: 'sip', parse: text,
    help: 'TLS certificate chain (PEM), served to clients that name no host or one without a certificate of its own; re-read on reload',
  }),
  tlsKey: option({
    flag: 'tls-key', arg: 'file', section: 'sip', parse: text,
    help: 'TLS private key (PEM) of --tls-cert',
  }),
  tlsCertDir: option({
    flag: 'tls-cert-dir', arg: 'dir', section: 'sip', parse: text, defaultText: 'none',
    help: 'more TLS certificates, chosen by the host name a client asks for (SNI): each NAME.crt with its NAME.key, served for the DNS names it holds; re-read on reload',
  }),
  wsOrigin: option({
    flag: 'ws-origin', arg: 'origins', section: 'sip', parse: text, defaultText: 'any',
    help: 'comma-separated Origins allowed to open WebSocket connections, e.g. https://phone.example.com',
  }),
  wsMaxConnections: option({
    flag: 'ws-max-connections', arg: 'n', section: 'sip', default: DEFAULT_WS_LIMITS.maxConnections, parse: positiveInteger,
    help: 'WebSocket connections open at once; further upgrades get 503',
  }),
  wsMaxPerAddress: option({
    flag: 'ws-max-per-address', arg: 'n', section: 'sip', default: DEFAULT_WS_LIMITS.maxPerAddress, parse: positiveInteger,
    help: 'WebSocket connections open at once from one address',
  }),
  wsMaxFrame: option({
    flag: 'ws-max-frame', arg: 'bytes', section: 'sip', default: DEFAULT_WS_LIMITS.maxFrameBytes, parse: positiveInteger,
    help: 'largest WebSocket frame (one SIP message) accepted; a larger one closes the connection',
  }),
  wsPingInterval: option({
    flag: 'ws-ping-interval', arg: 's', section: 'sip', default: DEFAULT_WS_LIMITS.pingIntervalMs / 1000, parse: positiveInteger,
    help: 'WebSocket ping interval; a connection that misses a pong is dropped',
  }),
  ami: option({
    flag: 'ami', arg: 'host:port', section: 'ami', key: 'listen', parse: listenAddress,
    help: 'Asterisk Manager Interface listen address', defaultText: 'off', example: '127.0.0.1:5038',
  }),
  amiConfig: option({
    flag: 'ami-config', arg: 'file', section: 'ami', key: 'users', parse: text,
    help: 'the AMI users in Asterisk manager.conf format (needed with --ami; re-read on reload)', example: '/etc/presenced/manager.conf',
  }),
  http: option({
    flag: 'http', arg: 'host:port', section: 'http', key: 'listen', parse: listenAddress, defaultText: 'off',
    help: 'the presence panel (a web page at /), its HTTP API (/api/v1, OpenAPI at /openapi.json), Prometheus /metrics and /healthz, e.g. 127.0.0.1:8088',
  }),
  httpLogoutGrace: option({
    flag: 'http-logout-grace', arg: 's', section: 'http', key: 'logout_grace', default: 30, parse: wholeSeconds,
    help: "when a user's last page closes and none comes back this long, their on-logout state is applied",
  }),
  webhook: option({
    flag: 'webhook', arg: 'urls', section: 'http', parse: parseWebhookUrls, defaultText: 'none', example: 'http://127.0.0.1:9000/presence',
    help: 'comma-separated http(s) URLs each presence and device change is POSTed to as JSON (retried with back-off; never holds up a NOTIFY or an answer)',
  }),
  webhookTimeout: option({
    flag: 'webhook-timeout', arg: 's', section: 'http', key: 'webhook_timeout', default: DEFAULT_WEBHOOKS.timeoutMs / 1000, parse: positiveInteger,
    help: 'a webhook request not answered within this is abandoned and tried again',
  }),
  webhookQueue: option({
    flag: 'webhook-queue', arg: 'n', section: 'http', key: 'webhook_queue', default: DEFAULT_WEBHOOKS.maxQueued, parse: positiveInteger,
    help: 'changes waiting per webhook URL at most (while it fails or is slow); past it the oldest is dropped',
  }),
  store: option({
    flag: 'store', arg: 'kind', section: 'store', key: 'kind', default: 'sqlite' as StoreKind, parse: storeKind,
    help: 'sqlite (a file in the data directory), memory (nothing kept across restarts) or redis://HOST:PORT[/DB] (shared by several nodes: docs/CLUSTER.md)',
  }),
  nodeId: option({
    flag: 'node-id', arg: 'name', section: 'store', key: 'node', default: hostname(), defaultText: 'the host name', parse: text,
    help: "this node's name in a shared store: the owner of the subscriptions it serves (unique per node, stable across restarts)",
  }),
  lease: option({
    flag: 'lease', arg: 's', section: 'store', default: 15, parse: positiveInteger,
    help: "how long a node's lease in a shared store lasts (renewed every third): a node silent this long is taken over and its watchers told to subscribe again",
  }),
  overloadLag: option({
    flag: 'overload-lag', arg: 'ms', section: 'limits', default: DEFAULT_OVERLOAD.lagMs, parse: wholeMilliseconds,
    help: 'event-loop lag that starts overload control: new SUBSCRIBEs and PUBLISHes get 503 until it is under half; 0: off',
  }),
  overloadDelay: option({
    flag: 'overload-delay', arg: 'ms', section: 'limits', default: DEFAULT_OVERLOAD.queueDelayMs, parse: wholeMilliseconds,
    help: 'a new SUBSCRIBE or PUBLISH that would wait longer than this to be handled gets 503, so the backlog stays this short; 0: lag only',
  }),
  overloadRetryAfter: option({
    flag: 'overload-retry-after', arg: 's', section: 'limits', default: DEFAULT_OVERLOAD.retryAfterS, parse: positiveInteger,
    help: 'Retry-After of an overload 503: between this and twice this, so refused phones do not return in step',
  }),
  maxHeaderBytes: option({
    flag: 'max-header-bytes', arg: 'n', section: 'limits', default: LIMITS.maxHeaderBytes, parse: positiveInteger,
    help: 'longest header value or Request-URI (longer: 400 naming the header)',
  }),
  maxRequestBytes: option({
    flag: 'max-request-bytes', arg: 'n', section: 'limits', default: LIMITS.maxRequestBytes, parse: positiveInteger,
    help: 'largest request (larger: 513; over TCP a header section longer than this closes the connection)',
  }),
  maxDialogBytes: option({
    flag: 'max-dialog-bytes', arg: 'n', section: 'limits', default: LIMITS.maxDialogBytes, parse: positiveInteger,
    help: 'largest dialog state one subscription keeps: Call-ID, From, To, Contact, Record-Route (larger: 513)',
  }),
  maxSubscriptions: option({
    flag: 'max-subscriptions', arg: 'n', section: 'limits', default: LIMITS.maxSubscriptions, parse: positiveInteger,
    help: 'live subscriptions in total (more: 503 with Retry-After)', defaultText: 'half the heap ÷ 5 KiB',
  }),
  maxSubscriptionsPerSource: option({
    flag: 'max-subscriptions-per-source', arg: 'n', section: 'limits', default: LIMITS.maxSubscriptionsPerSource, parse: positiveInteger,
    help: 'live subscriptions from one address (more: 403); raise it behind an SBC', defaultText: 'a tenth of --max-subscriptions',
  }),
  maxSubscriptionsPerPresentity: option({
    flag: 'max-subscriptions-per-presentity', arg: 'n', section: 'limits', default: LIMITS.maxSubscriptionsPerPresentity, parse: positiveInteger,
    help: 'live subscriptions to one extension (more: 403)', defaultText: 'a tenth of --max-subscriptions',
  }),
  rlsMaxMembers: option({
    flag: 'rls-max-members', arg: 'n', section: 'limits', default: 100, parse: positiveInteger,
    help: 'entries one request-contained resource list (--rls-uri) may have (more: 413); its URIs count toward --max-dialog-bytes',
  }),
  maxPublications: option({
    flag: 'max-publications', arg: 'n', section: 'limits', default: LIMITS.maxPublications, parse: positiveInteger,
    help: 'live publications in total (more: 503 with Retry-After)', defaultText: 'an eighth of the heap ÷ 4 KiB',
  }),
  maxPublicationsPerPresentity: option({
    flag: 'max-publications-per-presentity', arg: 'n', section: 'limits', default: LIMITS.maxPublicationsPerPresentity, parse: positiveInteger,
    help: 'live publications for one extension (more: 403)',
  }),
  maxConnectionsPerSource: option({
    flag: 'max-connections-per-source', arg: 'n', section: 'limits', default: 1000, parse: positiveInteger,
    help: 'TCP/TLS connections from one address (more are closed at once)',
  }),
  messageTimeout: option({
    flag: 'message-timeout', arg: 's', section: 'limits', default: 10, parse: positiveInteger,
    help: 'a TCP/TLS client must complete its first message, and any message it begins, within this long',
  }),
  tlsHandshakeTimeout: option({
    flag: 'tls-handshake-timeout', arg: 's', section: 'limits', default: 5, parse: positiveInteger,
    help: 'a TLS client must complete its handshake within this long (else the connection is closed)',
  }),
  maxBufferedBytes: option({
    flag: 'max-buffered-bytes', arg: 'n', section: 'limits', default: 64 * 1024 * 1024, parse: positiveInteger,
    help: 'partial TCP/TLS messages held over all connections (the connection that would exceed it is closed)',
  }),
  maxPublicationsPerSource: option({
    flag: 'max-publications-per-source', arg: 'n', section: 'limits', default: LIMITS.maxPublicationsPerSource, parse: positiveInteger,
    help: 'live publications from one address for one extension (more: 403)',
  }),
  nonceLifetime: option({
    flag: 'nonce-lifetime', arg: 's', section: 'security', default: 300, parse: positiveInteger,
    help: 'digest nonces older than this are answered stale=true',
  }),
  authBan: option({
    flag: 'auth-ban', arg: 'n/seconds', section: 'security', parse: banPolicy, defaultText: 'off',
    help: 'after N failed authentications within SECONDS, ignore the address for SECONDS, e.g. 5/600',
  }),
  aclSilent: option({
    flag: 'acl-silent', arg: '', section: 'security', default: false, defaultText: 'no', parse: yesNo,
    help: 'addresses a pjsip.conf type=acl denies get no answer at all instead of 403',
  }),
};

export type OptionName = keyof typeof OPTIONS;
/** The options as given (flags over presenced.conf over defaults), each parsed to its type. */
export type OptionValues = { [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> };

/** The presenced.conf key of an option. */
export function fileKey(spec: OptionSpec<unknown>): string {
  return spec.key ?? spec.flag;
}

/** How the default of an option reads in --help and the docs ('' when it has none). */
export function describeDefault(spec: OptionSpec<unknown>): string {
  return spec.defaultText ?? (spec.default === undefined ? '' : String(spec.default));
}
