// Fixed loopback ports for the interop suite, so one capture filter sees every SIP packet of the run.
// INTEROP_PORT_BASE moves the whole block (default 25060) if something else on the machine uses it.
const base = Number(process.env.INTEROP_PORT_BASE ?? 25060);
if (!Number.isInteger(base) || base < 1024 || base > 65000) throw new Error(`bad INTEROP_PORT_BASE: ${process.env.INTEROP_PORT_BASE}`);

export const HOST = '127.0.0.1';

/** SIP ports: all within `sipRange`, the capture filter. */
export const SIP_PORTS = {
  /** presenced, UDP and TCP */
  server: base,
  sippUdp: base + 1,
  sippTcp: base + 2,
  sippPublish: base + 3,
  baresip: base + 4,
  linphonec: base + 5,
  /** Kamailio's dispatcher in front of the two cluster nodes */
  kamailio: base + 6,
  clusterNodes: [base + 7, base + 8],
} as const;

export const sipRange = { first: base, last: base + 9 } as const;

/** Control ports, outside the captured range: their traffic is not SIP. */
export const CONTROL_PORTS = {
  sipp: base + 40,
  baresip: base + 41,
} as const;

/** SIP over TLS: encrypted, so outside the captured range too. */
export const TLS_PORTS = {
  /** presenced's --tls listener */
  server: base + 22,
} as const;

/** SIPVicious against presenced, outside the captured range (its scans are not interop traffic). */
export const SCANNER_PORTS = {
  /** presenced, UDP and TCP */
  server: base + 30,
  /** the relay the scanners talk to (test/interop/helpers/udp-relay.ts) */
  relay: base + 31,
  /** the scanners' own source ports */
  svmap: base + 32,
  svwar: base + 33,
  svcrack: base + 34,
} as const;

/** WebSocket and web ports, outside the captured range (the capture holds plain SIP only). */
export const WEB_PORTS = {
  /** presenced's --ws listener */
  ws: base + 20,
  /** the page headless Chromium loads */
  page: base + 21,
} as const;
