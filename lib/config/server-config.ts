/**
 * The one typed configuration object presenced runs with, built once at start from the option values (flags over
 * presenced.conf over defaults) and checked as a whole; modules get their part of it as named options.
 */
import { groupId } from './groups.js';
import { existsSync } from 'node:fs';
import type { TimerSettings } from '../sip/client-transaction.js';
import type { ExpiryPolicy } from '../sip/expires.js';
import type { ViaTransport } from '../sip/transport.js';
import { DEFAULT_DELIVERY, type DeliveryPolicy } from '../subscriptions/delivery-policy.js';
import { DEFAULT_WS_LIMITS, type WsLimits } from '../sip/ws-limits.js';
import type { OptionValues } from './options.js';
import type { Limits } from '../limits/limits.js';
import type { OverloadSettings } from '../overload/load-monitor.js';
import { BUNDLED_DIALPLAN } from './paths.js';
import { DEFAULT_WEBHOOKS, type WebhookSettings } from '../webhooks/webhook-sender.js';


/** One SIP listening socket. */
export interface Listener {
  transport: ViaTransport;
  host: string;
  port: number;
}

export interface ServerConfig {
  /** The Asterisk extensions.conf with the hints. */
  dialplanFile: string;
  /** Whether a dialplan without hints is accepted (at start and on reload). */
  allowEmptyDialplan: boolean;
  /** Where SUBSCRIBE and PUBLISH resolve. */
  context: string;
  dataDir: string;
  /** The group whose members may use the control socket (--control-group); the daemon's user only when absent. */
  controlGroup?: { name: string; gid: number };
  /** Every SIP transport to listen on; at least one. */
  listeners: Listener[];
  expiry: ExpiryPolicy;
  timers: TimerSettings;
  tcpIdleTimeoutMs: number;
  delivery: DeliveryPolicy;
  /** Whether NOTIFYs carry the digium_presence tuple: by User-Agent (auto), always, or never. */
  digiumTuple: OptionValues['digiumTuple'];
  store: OptionValues['store'];
  /** Overload control: the lag that starts shedding (0: off) and the Retry-After of its 503s. */
  overload: OverloadSettings;
  /** How long this node's lease in the store lasts: a node silent this long is taken over by a survivor. */
  leaseMs: number;
  /** This node's name on the change bus and as the owner of its subscriptions. */
  node: string;
  /** The AMI listener and its manager.conf-style users file; no AMI when absent. */
  ami?: { host: string; port: number; configFile: string };
  /** What a request may make us keep (docs/RELIABILITY.md, "Limits"). */
  limits: Limits;
  /** Asterisk pjsip.conf (endpoints, ACLs, resource lists), when given. */
  pjsipFile?: string;
  /** RFC 5367 request-contained lists: the list server's user and the entries one list may have; none when absent. */
  listServer?: { serverUser: string; maxMembers: number };
  /** Stream (TCP, TLS) connections: per source address, time to complete a message or a handshake, partial data held. */
  streams: { maxConnectionsPerSource: number; messageTimeoutMs: number; maxBufferedBytes: number; handshakeTimeoutMs: number };
  /** The default PEM certificate chain and private key files, and a directory of more chosen by SNI (TLS, WSS). */
  tls?: { certFile: string; keyFile: string; certDir?: string };
  /** Digest and ACL settings for the endpoints of pjsip.conf (open to anyone without endpoints). */
  security: { nonceLifetimeMs: number; ban: { failures: number; windowMs: number } | undefined; aclSilent: boolean };
  /** SIP over WebSocket: allowed Origins (empty: any) and limits. */
  websocket: { origins: string[]; limits: WsLimits };
  /** Where state changes are POSTed (none: no URLs). */
  webhooks: WebhookSettings;
  /** The presence panel and its API; none when absent. */
  http?: { host: string; port: number; logoutGraceMs: number };
}

/** A configuration that cannot run; the message names the options involved. */
export class ConfigError extends Error {}

/** Checks the options together and builds the configuration; throws ConfigError. */
export function buildServerConfig(values: OptionValues): ServerConfig {
  if (values.minExpires > values.maxExpires) throw new ConfigError('--min-expires must not exceed --max-expires');
  const listeners: Listener[] = [];
  if (values.udp) listeners.push({ transport: 'UDP', ...values.udp });
  if (values.tcp) listeners.push({ transport: 'TCP', ...values.tcp });
  if (values.ws) listeners.push({ transport: 'WS', ...values.ws });
  if (values.wss) listeners.push({ transport: 'WSS', ...values.wss });
  if (values.tls) listeners.push({ transport: 'TLS', ...values.tls });
  if (listeners.length === 0) throw new ConfigError('every transport is off: nothing to listen on');
  if ((values.tlsCert === undefined) !== (values.tlsKey === undefined)) throw new ConfigError('--tls-cert and --tls-key go together');
  if (values.wss && values.tlsCert === undefined) throw new ConfigError('--wss needs --tls-cert FILE and --tls-key FILE');
  if (values.tls && values.tlsCert === undefined) throw new ConfigError('--tls needs --tls-cert FILE and --tls-key FILE');
  if (values.tlsCertDir !== undefined && values.tlsCert === undefined) throw new ConfigError('--tls-cert-dir needs --tls-cert FILE and --tls-key FILE (the default certificate)');
  if (values.ami && values.amiConfig === undefined) throw new ConfigError('--ami needs --ami-config FILE with the AMI users');
  if (!values.ami && values.amiConfig !== undefined) throw new ConfigError('--ami-config has no effect without --ami HOST:PORT');
  return {
    dialplanFile: values.dialplan ?? (existsSync('extensions.conf') ? 'extensions.conf' : BUNDLED_DIALPLAN),
    allowEmptyDialplan: values.allowEmptyDialplan,
    context: values.context,
    dataDir: values.dataDir,
    controlGroup: values.controlGroup === undefined ? undefined : { name: values.controlGroup, gid: controlGroupId(values.controlGroup) },
    listeners,
    expiry: {
      min: values.minExpires,
      max: values.maxExpires,
      default: Math.min(Math.max(values.defaultExpires, values.minExpires), values.maxExpires),
    },
    timers: { t1: values.t1, t2: Math.max(values.t1, values.t2) },
    tcpIdleTimeoutMs: values.tcpIdleTimeout * 1000,
    delivery: { ...DEFAULT_DELIVERY, maxFailures: values.notifyFailures, maxRate: values.notifyRate },
    digiumTuple: values.digiumTuple,
    store: values.store,
    node: values.nodeId,
    streams: {
      maxConnectionsPerSource: values.maxConnectionsPerSource,
      messageTimeoutMs: values.messageTimeout * 1000,
      maxBufferedBytes: values.maxBufferedBytes,
      handshakeTimeoutMs: values.tlsHandshakeTimeout * 1000,
    },
    leaseMs: values.lease * 1000,
    overload: { lagMs: values.overloadLag, queueDelayMs: values.overloadDelay, retryAfterS: values.overloadRetryAfter },
    limits: {
      maxHeaderBytes: values.maxHeaderBytes,
      maxRequestBytes: values.maxRequestBytes,
      maxDialogBytes: values.maxDialogBytes,
      maxSubscriptions: values.maxSubscriptions,
      maxSubscriptionsPerSource: values.maxSubscriptionsPerSource,
      maxSubscriptionsPerPresentity: values.maxSubscriptionsPerPresentity,
      maxPublications: values.maxPublications,
      maxPublicationsPerPresentity: values.maxPublicationsPerPresentity,
      maxPublicationsPerSource: values.maxPublicationsPerSource,
    },
    ...(values.ami && values.amiConfig !== undefined ? { ami: { ...values.ami, configFile: values.amiConfig } } : {}),
    ...(values.http ? { http: { ...values.http, logoutGraceMs: values.httpLogoutGrace * 1000 } } : {}),
    webhooks: { ...DEFAULT_WEBHOOKS, urls: values.webhook ?? [], timeoutMs: values.webhookTimeout * 1000, maxQueued: values.webhookQueue },
    ...(values.pjsip !== undefined ? { pjsipFile: values.pjsip } : {}),
    ...(values.rlsUri !== '' ? { listServer: { serverUser: values.rlsUri, maxMembers: values.rlsMaxMembers } } : {}),
    ...(values.tlsCert !== undefined && values.tlsKey !== undefined ? { tls: { certFile: values.tlsCert, keyFile: values.tlsKey, ...(values.tlsCertDir !== undefined ? { certDir: values.tlsCertDir } : {}) } } : {}),
    security: { nonceLifetimeMs: values.nonceLifetime * 1000, ban: values.authBan, aclSilent: values.aclSilent },
    websocket: {
      origins: (values.wsOrigin ?? '').split(',').map((origin) => origin.trim()).filter((origin) => origin !== ''),
      limits: {
        ...DEFAULT_WS_LIMITS,
        maxConnections: values.wsMaxConnections,
        maxPerAddress: values.wsMaxPerAddress,
        maxFrameBytes: values.wsMaxFrame,
        pingIntervalMs: values.wsPingInterval * 1000,
        idleTimeoutMs: values.tcpIdleTimeout * 1000,
      },
    },
  };
}

function controlGroupId(name: string): number {
  const gid = groupId(name);
  if (gid === undefined) throw new ConfigError(`--control-group: no group named '${name}' on this system`);
  return gid;
}
