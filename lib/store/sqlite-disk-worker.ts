/**
 * The SQLite store's waits on the disk, in a worker thread. better-sqlite3 is synchronous, so on the event loop's
 * thread every fsync holds every SIP request up for as long as the disk takes — hundreds of milliseconds on a busy
 * virtual disk. Two kinds of them move here:
 * - checkpoints (the write-ahead log copied into the database, both fsynced): the store's connection never
 *   checkpoints (wal_autocheckpoint=0); this thread's own connection to the same file does, passively, so it never
 *   blocks the store's writes;
 * - the fsync that makes a commit durable: the store commits with synchronous=NORMAL (written to the log, not
 *   flushed) and, for a write that must survive a power loss, asks this thread to fdatasync the log before it answers.
 *   fdatasync flushes the file whichever descriptor names it. Requests are answered in order.
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What the store starts the worker with. */
export interface DiskWorkerData {
  file: string;
  checkpointIntervalMs: number;
}

/** Store → worker: flush the log (`flush`: an id to answer with), or stop (close the connection, exit). */
export type DiskWorkerRequest = { flush: number } | { stop: true };
/** Worker → store: the log is on disk up to every commit made before `flush` was asked. */
export interface DiskWorkerAnswer { flushed: number }

/** The URL of this module, for `new Worker`. */
export const DISK_WORKER_MODULE = new URL(import.meta.url);

if (parentPort && (workerData as Partial<DiskWorkerData> | undefined)?.file) {
  const port = parentPort;
  const { file, checkpointIntervalMs } = workerData as DiskWorkerData;
  const db = new Database(file, { fileMustExist: true });
  // The store may be in the middle of a write: wait for it rather than fail.
  db.pragma('busy_timeout = 5000');
  // Reading the mode opens the log; it is not removed before the last connection closes.
  db.pragma('journal_mode', { simple: true });
  const log = openSync(`${file}-wal`, 'r');
  const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), checkpointIntervalMs);
  port.on('message', (request: DiskWorkerRequest) => {
    if ('flush' in request) {
      fdatasyncSync(log);
      port.postMessage({ flushed: request.flush } satisfies DiskWorkerAnswer);
      return;
    }
    clearInterval(timer);
    closeSync(log);
    db.close();
    port.close();
  });
}
