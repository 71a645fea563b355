/** `npm run docs:config`: writes the sample presenced.conf and the option table of docs/CONFIG.md from the table. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './paths.js';
import { CONFIG_DOC_PATH, renderSampleConfig, SAMPLE_CONFIG_PATH, withOptionTable } from './reference.js';

writeFileSync(path.join(PACKAGE_ROOT, SAMPLE_CONFIG_PATH), renderSampleConfig());
const doc = path.join(PACKAGE_ROOT, CONFIG_DOC_PATH);
writeFileSync(doc, withOptionTable(readFileSync(doc, 'utf8')));
