import { describe } from 'vitest';
import { createInProcessBus } from '../../src/modules/events/bus.inprocess.js';
import { eventBusContract } from './bus.contract.js';

describe('event bus contract: in process', () => {
  eventBusContract({
    durable: false,
    sharesWork: false,
    space: () => {
      // One process: every "open" is the same bus.
      const bus = createInProcessBus();
      return Promise.resolve({ open: () => Promise.resolve(bus), close: () => bus.close() });
    },
  });
});
