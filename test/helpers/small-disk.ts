// A daemon whose data directory is a small tmpfs in its own mount namespace, and a way to fill that disk: how tests
// make the store fail for real (ENOSPC), with nothing of the host's file systems at stake.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_FILE_NAME } from '../../lib/store/sqlite-store.js';

/** Whether this machine lets an unprivileged user make a mount namespace (util-linux, user namespaces on). */
export function canMountSmallDisk(): boolean {
  return spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']).status === 0;
}

/** A launcher running the daemon with `dir` on a fresh 8 MiB tmpfs that only it (and /proc/<pid>/root) sees. */
export function onSmallDisk(dir: string): string[] {
  return ['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs -o size=8m tmpfs "$0" && exec "$@"', dir];
}

/** Writes zeros to `file` until the file system is full. */
export async function fill(file: string): Promise<void> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let written = 0; written < 64 * 1024 * 1024; written += chunk.length) await handle.write(chunk);
    throw new Error('the file system did not fill up');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    // The last blocks: smaller writes until nothing fits.
    for (let size = 32 * 1024; size >= 512; size /= 2) {
      for (;;) {
        try {
          await handle.write(Buffer.alloc(size));
        } catch {
          break;
        }
      }
    }
  } finally {
    await handle.close();
  }
}

/**
 * Runs `query` on the daemon's database. SQLite resolves /proc/<pid>/root to the host's root, so the database and its
 * write-ahead log are read from a copy in `copyDir`.
 */
export function queryStore<T>(disk: string, copyDir: string, query: (db: Database.Database) => T): T {
  for (const suffix of ['', '-wal']) copyFileSync(path.join(disk, SQLITE_FILE_NAME + suffix), path.join(copyDir, SQLITE_FILE_NAME + suffix));
  const db = new Database(path.join(copyDir, SQLITE_FILE_NAME));
  try {
    return query(db);
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(copyDir, SQLITE_FILE_NAME + suffix), { force: true });
  }
}
