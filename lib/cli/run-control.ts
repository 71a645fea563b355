import { ControlUnavailableError, controlRequest } from '../control/control-client.js';
import type { ControlRequest } from '../control/control-protocol.js';

/**
 * Runs one request against the daemon's control socket and prints its answer, or says why not and sets a non-zero
 * exit code (the `presencestate` and `devicestate` programs).
 */
export async function runControl(program: string, dataDir: string, request: ControlRequest, print: (result: never) => string): Promise<void> {
  try {
    const response = await controlRequest(dataDir, request);
    if (!response.ok) {
      process.stderr.write(`${response.error}\n`);
      process.exitCode = 1;
      return;
    }
    const text = print(response.result as never);
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  } catch (error) {
    if (!(error instanceof ControlUnavailableError)) throw error;
    process.stderr.write(`${program}: ${error.message}\n`);
    process.exitCode = 1;
  }
}
