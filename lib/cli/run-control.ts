import type { Command } from 'commander';
import { readOptions } from '../config/command-line.js';
import { ConfigError } from '../config/server-config.js';
import { ControlUnavailableError, controlRequest } from '../control/control-client.js';
import type { ControlRequest } from '../control/control-protocol.js';

/**
 * Runs one request against the daemon's control socket and prints its answer, or says why not and sets a non-zero
 * exit code (the `presencestate` and `devicestate` programs). The data directory is found as the daemon finds it:
 * --data, $PRESENCED_DATA, presenced.conf, the default.
 */
export async function runControl(program: Command, request: ControlRequest, print: (result: never) => string): Promise<void> {
  try {
    const dataDir = readOptions(program).values.dataDir;
    const response = await controlRequest(dataDir, request);
    if (!response.ok) {
      process.stderr.write(`${response.error}\n`);
      process.exitCode = 1;
      return;
    }
    const text = program.opts<{ json?: boolean }>().json ? JSON.stringify(response.result, null, 2) : print(response.result as never);
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  } catch (error) {
    if (!(error instanceof ControlUnavailableError || error instanceof ConfigError)) throw error;
    process.stderr.write(`${program.name()}: ${error.message}\n`);
    process.exitCode = 1;
  }
}

/** `--json`: every command prints its result as JSON, for scripts, instead of the text an admin reads. */
export function addJsonFlag(program: Command): Command {
  return program.option('--json', 'print the result as JSON (for scripts)');
}
