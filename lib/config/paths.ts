/** Where things are: the package (and its version, for --version), the system config file, the default data directory. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (dist/lib/config → three levels up), in a checkout and in an installed package alike. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const VERSION: string = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The sample dialplan shipped with the package. */
export const BUNDLED_DIALPLAN = path.join(PACKAGE_ROOT, 'fixtures', 'extensions.conf');

export const SYSTEM_CONFIG_FILE = '/etc/presenced/presenced.conf';

/** The default data directory: per user, where XDG puts state ($XDG_STATE_HOME/presenced, ~/.local/state/presenced). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const stateHome = env['XDG_STATE_HOME'] && path.isAbsolute(env['XDG_STATE_HOME']) ? env['XDG_STATE_HOME'] : path.join(os.homedir(), '.local', 'state');
  return path.join(stateHome, 'presenced');
}
