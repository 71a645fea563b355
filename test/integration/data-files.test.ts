// D13: the data directory and the store are readable by the server's user only.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { SQLITE_FILE_NAME } from '../../lib/store/sqlite-store.js';
import { useServer } from '../helpers/suite.js';

describe('integration: data file modes (D13)', function () {
  const server = useServer();

  it('keeps the data directory 0700 and the database files 0600', async function () {
    const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;
    expect(await mode(server().dataDir)).to.equal(0o700);
    for (const suffix of ['', '-wal', '-shm']) expect(await mode(path.join(server().dataDir, SQLITE_FILE_NAME + suffix)), suffix).to.equal(0o600);
  });
});
