/**
 * The SQLite store's WAL checkpoints, in a worker thread. A checkpoint copies the write-ahead log into the database
 * and fsyncs both; better-sqlite3 is synchronous, so on the event loop's thread a slow disk (a busy virtual disk, a
 * backup running) would hold every SIP request up for as long as the fsync takes — hundreds of milliseconds seen
 * here. The store's own connection therefore never checkpoints (wal_autocheckpoint=0), and this thread's connection
 * to the same file does, passively: it never blocks the store's writes, and SQLite's locks keep the two apart.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What the store starts the worker with. */
export interface CheckpointerData {
  file: string;
  intervalMs: number;
}

/** The store stops it with this message; the worker closes its connection and exits. */
export const STOP_CHECKPOINTER = 'stop';

/** The URL of this module, for `new Worker`. */
export const CHECKPOINTER_MODULE = new URL(import.meta.url);

if (parentPort && (workerData as Partial<CheckpointerData> | undefined)?.file) {
  const { file, intervalMs } = workerData as CheckpointerData;
  const db = new Database(file, { fileMustExist: true });
  // The store may be in the middle of a write: wait for it rather than fail.
  db.pragma('busy_timeout = 5000');
  const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), intervalMs);
  parentPort.on('message', (message: unknown) => {
    if (message !== STOP_CHECKPOINTER) return;
    clearInterval(timer);
    db.close();
    parentPort!.close();
  });
}
