import { MemoryBusHub } from '../../lib/store/memory-bus.js';
import { busConformance } from './bus-conformance.js';

busConformance('memory', async () => {
  const hub = new MemoryBusHub();
  return { nodes: [hub.connect(), hub.connect()], cleanup: async () => {} };
});
