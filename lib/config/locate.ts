/**
 * Where presenced.conf and the data directory are, the same way for the daemon and the CLI, so `presencestate` run
 * from any directory reaches the daemon: the flag, else the environment, else the config file, else the default.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readConfigFile } from './config-file.js';
import type { OptionValues } from './options.js';
import { SYSTEM_CONFIG_FILE } from './paths.js';

/** --conf, else $PRESENCED_CONF, else /etc/presenced/presenced.conf when it exists; undefined when none applies. */
export function locateConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = flag ?? (env['PRESENCED_CONF'] || undefined);
  if (named !== undefined) return path.resolve(named);
  return existsSync(SYSTEM_CONFIG_FILE) ? SYSTEM_CONFIG_FILE : undefined;
}

export interface ResolvedOptions {
  values: OptionValues;
  /** The presenced.conf read, if any. */
  configFile: string | undefined;
}

/**
 * Flags over presenced.conf over defaults; the data directory also looks at $PRESENCED_DATA between the flag and the
 * file. A config file that was named (flag or environment) must exist. Throws ConfigError.
 */
export function resolveOptions(given: {
  defaults: OptionValues;
  flags: Partial<OptionValues>;
  /** --conf as given. */
  confFlag: string | undefined;
  env?: NodeJS.ProcessEnv;
}): ResolvedOptions {
  const { defaults, flags, confFlag, env = process.env } = given;
  const configFile = locateConfigFile(confFlag, env);
  const fromFile = configFile === undefined ? {} : readConfigFile(configFile);
  const dataDir = flags.dataDir ?? (env['PRESENCED_DATA'] || undefined) ?? fromFile.dataDir ?? defaults.dataDir;
  return { values: { ...defaults, ...fromFile, ...flags, dataDir: path.resolve(dataDir) }, configFile };
}
