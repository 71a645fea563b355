/**
 * The endpoints being served: read from `--pjsip` at start (an unusable file stops the start with its file:line),
 * re-read on reload (an unusable file keeps the previous endpoints). Without a file, or with a file that defines no
 * endpoint (only resource lists, say), presenced is open — Asterisk's rule — and says so.
 */
import type { Logger } from '../util/log.js';
import { loadSecurityConfig, type SecurityConfig } from './endpoints.js';

export class EndpointDirectory {
  private config: SecurityConfig | undefined;

  constructor(private readonly file: string | undefined, private readonly log: Logger) {
    this.config = file === undefined ? undefined : loadSecurityConfig(file);
    if (this.config) this.describe('endpoints');
    if (!this.config || this.config.endpoints.size === 0) {
      log.warn('security: no endpoints (--pjsip): anyone who reaches the SIP ports can read and set every presence (docs/SECURITY.md)');
    }
  }

  /** The configuration, or undefined without a file. */
  get current(): SecurityConfig | undefined {
    return this.config;
  }

  /** Reads the file again; one that cannot be used keeps the previous endpoints. Undefined without a file. */
  reload(): { ok: boolean; detail: string } | undefined {
    if (this.file === undefined) return undefined;
    try {
      this.config = loadSecurityConfig(this.file);
    } catch (error) {
      const detail = `${(error as Error).message}; keeping the previous endpoints`;
      this.log.error(`reload: ${detail}`);
      return { ok: false, detail };
    }
    return { ok: true, detail: this.describe('reload') };
  }

  private describe(what: string): string {
    const { endpoints, acls, file } = this.config!;
    const detail = `${endpoints.size} endpoint(s) and ${acls.length} acl(s) from ${file}`;
    this.log.info(`${what}: ${detail}`);
    return detail;
  }
}
