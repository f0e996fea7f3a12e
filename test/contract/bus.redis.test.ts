import { describeWithRedis } from '../support/redis.js';
import { eventBusContract } from './bus.contract.js';
import { redisBusSpace } from './bus.redis.harness.js';

describeWithRedis('event bus contract: redis streams', () => {
  eventBusContract({ durable: true, sharesWork: true, space: redisBusSpace });
});
