import net from 'node:net';
import path from 'node:path';
import { CONTROL_SOCKET, type ControlRequest, type ControlResponse } from './control-protocol.js';

export class ControlUnavailableError extends Error {}

/** Sends one request to the daemon owning `dataDir` and returns its answer. */
export function controlRequest(dataDir: string, request: ControlRequest): Promise<ControlResponse> {
  const socketPath = path.join(dataDir, CONTROL_SOCKET);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(socketPath, () => socket.write(JSON.stringify(request) + '\n'));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'is it running?' : error.message;
      reject(new ControlUnavailableError(`cannot reach presenced at ${socketPath} (${why})`));
    });
    socket.on('end', () => {
      try {
        resolve(JSON.parse(answer) as ControlResponse);
      } catch {
        reject(new ControlUnavailableError(`presenced at ${socketPath} sent an unreadable answer`));
      }
    });
  });
}
