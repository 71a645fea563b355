/**
 * The certificates presenced serves over TLS (SIP over TLS and WSS): a default one (`--tls-cert`/`--tls-key`) for
 * clients that name no host (many phones connect by IP address) or one we have no certificate for, and more chosen by
 * the name a client asks for (SNI, RFC 6066 §3) from `--tls-cert-dir`. Re-read on reload: a set that cannot be used
 * is refused as a whole and the one in service stays; connections already open keep the certificate they started with.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from '../util/log.js';
import type { StreamFactory } from './stream-transport.js';
import { TLS } from './transport.js';

export interface TlsFiles {
  /** PEM certificate chain and private key of the default certificate. */
  certFile: string;
  keyFile: string;
  /** A directory of NAME.crt + NAME.key pairs, each served to clients asking for a DNS name it holds. */
  certDir?: string;
}

/**
 * TLS 1.2 and 1.3 only; for TLS 1.2 only forward-secret key exchange with AEAD ciphers (TLS 1.3's suites all are):
 * no RSA key exchange, no CBC, no SHA-1 MACs.
 */
export const TLS_PROTOCOL_OPTIONS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} as const satisfies tls.SecureContextOptions;

interface Served {
  /** The default certificate's files, as a server's own options (what setSecureContext takes). */
  defaultOptions: tls.SecureContextOptions;
  defaultContext: tls.SecureContext;
  /** Exact DNS names, lower case; wildcard certificates (`*.example.com`) under the parent name (`example.com`). */
  byName: Map<string, tls.SecureContext>;
  byWildcard: Map<string, tls.SecureContext>;
  /** For the log: the default certificate's subject and the names served by SNI. */
  description: string;
}

export class TlsCertificates {
  private served: Served;
  /** Servers that hold the default certificate themselves (WSS): given the new one on reload. */
  private readonly servers: tls.Server[] = [];

  /** Reads every certificate; throws with the file and the problem when one cannot be used. */
  constructor(private readonly files: TlsFiles, private readonly log: Logger) {
    this.served = loadCertificates(files, log);
  }

  /** The context for a new connection that asked for `servername` (or none): its own certificate, else the default. */
  contextFor(servername: string | undefined): tls.SecureContext {
    const { served } = this;
    if (!servername) return served.defaultContext;
    const name = servername.toLowerCase();
    const dot = name.indexOf('.');
    return served.byName.get(name) ?? (dot > 0 ? served.byWildcard.get(name.slice(dot + 1)) : undefined) ?? served.defaultContext;
  }

  /** For node:tls: the certificate of the name a client asked for. */
  readonly sniCallback = (servername: string, done: (error: Error | null, context?: tls.SecureContext) => void): void => {
    done(null, this.contextFor(servername));
  };

  /** Options for a TLS server of our own (WSS's HTTPS server): the default certificate, SNI, the protocol rules. */
  serverOptions(): tls.TlsOptions {
    return { ...this.served.defaultOptions, SNICallback: this.sniCallback };
  }

  /** Keeps `server`'s default certificate current across reloads. */
  attach<S extends tls.Server>(server: S): S {
    this.servers.push(server);
    return server;
  }

  /** SIGHUP: reads the files again; if any cannot be used, logs why and keeps the certificates in service. */
  reload(): { ok: boolean; detail: string } {
    let next: Served;
    try {
      next = loadCertificates(this.files, this.log);
    } catch (error) {
      const detail = `${(error as Error).message}; keeping the previous TLS certificates`;
      this.log.error(`reload: ${detail}`);
      return { ok: false, detail };
    }
    this.served = next;
    for (const server of this.servers) server.setSecureContext(next.defaultOptions);
    this.log.info(`reload: TLS certificates: ${next.description}`);
    return { ok: true, detail: next.description };
  }

  describe(): string {
    return this.served.description;
  }
}

function loadCertificates(files: TlsFiles, log: Logger): Served {
  const defaultOptions = { ...TLS_PROTOCOL_OPTIONS, ...readPair(files.certFile, files.keyFile) };
  const defaultContext = secureContext(defaultOptions, files.certFile, files.keyFile);
  const defaultSubject = certificateOf(defaultOptions.cert, files.certFile, log).subject.replace(/\n/g, ', ');
  const byName = new Map<string, tls.SecureContext>();
  const byWildcard = new Map<string, tls.SecureContext>();
  const from = new Map<string, string>();
  for (const { certFile, keyFile } of pairsIn(files.certDir)) {
    const options = { ...TLS_PROTOCOL_OPTIONS, ...readPair(certFile, keyFile) };
    const context = secureContext(options, certFile, keyFile);
    const names = dnsNames(certificateOf(options.cert, certFile, log));
    if (names.length === 0) throw new Error(`the TLS certificate ${certFile} names no host (no DNS subjectAltName or CN)`);
    for (const name of names) {
      const earlier = from.get(name);
      if (earlier !== undefined) throw new Error(`the TLS certificates ${earlier} and ${certFile} both hold ${name}`);
      from.set(name, certFile);
      if (name.startsWith('*.')) byWildcard.set(name.slice(2), context);
      else byName.set(name, context);
    }
  }
  const sni = from.size === 0 ? '' : `; by name (SNI): ${[...from.keys()].join(', ')}`;
  return { defaultOptions, defaultContext, byName, byWildcard, description: `default ${defaultSubject}${sni}` };
}

/** NAME.crt with NAME.key in the directory, in name order; a certificate without its key is an error. */
function pairsIn(dir: string | undefined): Array<{ certFile: string; keyFile: string }> {
  if (dir === undefined) return [];
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    throw new Error(`cannot read the TLS certificate directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return entries.filter((entry) => entry.endsWith('.crt')).sort().map((entry) => {
    const keyFile = path.join(dir, `${entry.slice(0, -'.crt'.length)}.key`);
    if (!fs.existsSync(keyFile)) throw new Error(`the TLS certificate ${path.join(dir, entry)} has no key ${keyFile} beside it`);
    return { certFile: path.join(dir, entry), keyFile };
  });
}

function readPair(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  return { cert: readTlsFile(certFile, 'certificate'), key: readTlsFile(keyFile, 'key') };
}

function readTlsFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function secureContext(options: tls.SecureContextOptions, certFile: string, keyFile: string): tls.SecureContext {
  try {
    return tls.createSecureContext(options);
  } catch (error) {
    throw new Error(`the TLS certificate ${certFile} and key ${keyFile} are not usable: ${(error as Error).message}`);
  }
}

/** The first certificate of a chain; an expired one is served (the admin may be renewing it) but logged. */
function certificateOf(pem: Buffer, file: string, log: Logger): X509Certificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new Error(`the TLS certificate ${file} is not a PEM certificate: ${(error as Error).message}`);
  }
  if (Date.parse(certificate.validTo) < Date.now()) log.warn(`the TLS certificate ${file} expired on ${certificate.validTo}`);
  return certificate;
}

/** The DNS names a certificate holds: its DNS subjectAltNames, else its CN (RFC 6125 §6.4.4), in lower case. */
function dnsNames(certificate: X509Certificate): string[] {
  const alternatives = (certificate.subjectAltName ?? '').split(', ').filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4));
  if (alternatives.length > 0) return alternatives.map((name) => name.toLowerCase());
  const commonName = /^CN=(.+)$/m.exec(certificate.subject)?.[1];
  return commonName === undefined ? [] : [commonName.toLowerCase()];
}

/**
 * SIP over TLS (RFC 3261 §26.3.1) on the stream transport: an admitted connection becomes a TLS server socket with
 * the certificates in service when it arrived. presenced does not dial out over TLS (see TLS.dialsOut).
 */
export function tlsStreams(certificates: TlsCertificates): StreamFactory {
  return {
    kind: TLS,
    secure: (socket) => new tls.TLSSocket(socket, { isServer: true, secureContext: certificates.contextFor(undefined), SNICallback: certificates.sniCallback }),
  };
}
