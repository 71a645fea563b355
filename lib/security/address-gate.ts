/**
 * The first check on anything that reaches a SIP port, before a message is parsed beyond its start line (and for
 * TCP/TLS at accept time): the pjsip.conf `type=acl` sections — an address must pass each of them — and the
 * addresses banned for repeated failed authentication (`--auth-ban`), which are dropped without an answer.
 */
import type { Admission } from '../sip/transport.js';
import { aclAllows } from './acl.js';
import type { AuthFailures } from './auth-failures.js';
import type { SecurityConfig } from './endpoints.js';

export interface AddressGateOptions {
  security: () => SecurityConfig | undefined;
  failures: AuthFailures;
  /** `--acl-silent`: a denied address gets no answer at all instead of 403. */
  silent: boolean;
}

export class AddressGate {
  constructor(private readonly options: AddressGateOptions) {}

  readonly admit = (address: string): Admission => {
    if (this.options.failures.banned(address)) return 'drop';
    const acls = this.options.security()?.acls ?? [];
    if (acls.every((acl) => aclAllows(acl.rules, address))) return 'accept';
    return this.options.silent ? 'drop' : 'refuse';
  };
}
