/** Every scenario of `npm run bench`: the order a run takes them, and the order the report shows them. */
import type { Scenario } from '../lib/context.js';
import { scenarioNames } from '../lib/options.js';
import { bigConcertScenario } from './big-concert.js';
import { capacityScenario } from './capacity.js';
import { eventBusScenario } from './event-buses.js';
import { liveStreamsScenario } from './live-streams.js';
import { metricsCostScenario } from './metrics-cost.js';
import { openingScenario } from './opening.js';
import { pgbenchScenario } from './pgbench.js';
import { pollingScenario } from './polling.js';
import { purchaseScenario } from './purchase.js';
import { queueStreamScenario } from './queue-stream.js';
import { roomsScenario } from './rooms.js';
import { roundTripScenario } from './round-trips.js';
import { scaleOutScenario } from './scale-out.js';
import { seedScenario } from './seed.js';
import { showCancelScenario } from './show-cancel.js';
import { stormScenario } from './storm.js';

/** The report's sections in the order reports have always had (runs compare section by section). */
export const reportOrder: Scenario[] = [
  seedScenario,
  capacityScenario,
  scaleOutScenario,
  pollingScenario,
  stormScenario,
  purchaseScenario, // with pgbench's line
  roundTripScenario,
  eventBusScenario,
  queueStreamScenario,
  liveStreamsScenario,
  bigConcertScenario,
  showCancelScenario,
  metricsCostScenario,
  roomsScenario,
  openingScenario,
];

/** In the order a run takes them (`scenarioNames`). */
export const scenarios: Scenario[] = scenarioNames.map((name) =>
  [...reportOrder, pgbenchScenario].find((scenario) => scenario.name === name)!,
);
