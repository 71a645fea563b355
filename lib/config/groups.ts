/** Unix group names to ids, for --control-group: through getent, so groups from LDAP or sssd resolve too. */
import { execFileSync } from 'node:child_process';

/** The id of group `name` (or a number as given); undefined when the system has no such group. */
export function groupId(name: string): number | undefined {
  if (/^\d{1,9}$/.test(name)) return Number(name);
  try {
    const entry = execFileSync('getent', ['group', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const gid = entry.split(':')[2];
    return gid !== undefined && /^\d+$/.test(gid) ? Number(gid) : undefined;
  } catch {
    return undefined;
  }
}
