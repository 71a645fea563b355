// Certificates for the TLS tests, made with openssl for each run (nothing secret is kept in the repository).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertificateFiles {
  cert: string;
  key: string;
}

/** A self-signed certificate for `names` (the first is its CN), written to dir/file.crt and dir/file.key. */
export async function makeCertificate(dir: string, file: string, names: string[], key: 'ec' | 'rsa' = 'ec'): Promise<CertificateFiles> {
  const files = { cert: path.join(dir, `${file}.crt`), key: path.join(dir, `${file}.key`) };
  const keyArgs = key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  await run('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-days', '2', '-keyout', files.key, '-out', files.cert,
    '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}`]);
  return files;
}
