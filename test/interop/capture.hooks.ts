// Mocha root hooks for the interop run (.mocharc.interop.json requires this file): the capture spans every test.
import { discardSuiteCapture, startSuiteCapture } from './helpers/suite-capture.js';

export const mochaHooks = {
  async beforeAll(): Promise<void> {
    await startSuiteCapture();
  },
  async afterAll(): Promise<void> {
    await discardSuiteCapture();
  },
};
