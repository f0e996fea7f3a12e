/** The command line of `npm run bench` (the only one), and the sizes of every scenario. */
import { parseArgs } from 'node:util';

/** Every scenario, in the order a run takes them (round trips before pgbench, which reads them). */
export const scenarioNames = [
  'seed',
  'capacity',
  'polling',
  'storm',
  'round-trips',
  'purchase',
  'pgbench',
  'scale-out',
  'event-buses',
  'queue-stream',
  'live-streams',
  'big-concert',
  'show-cancel',
  'metrics-cost',
  'rooms',
  'opening',
] as const;

export type ScenarioName = (typeof scenarioNames)[number];

/** One stage of an arrival-rate ramp, as k6's ramping-arrival-rate executor takes it. */
export interface Stage {
  durationSeconds: number;
  /** Requests per second reached (linearly) at the end of the stage. */
  target: number;
}

export const stagesSeconds = (stages: readonly Stage[]): number =>
  stages.reduce((sum, stage) => sum + stage.durationSeconds, 0);

const seedStages: Stage[] = [
  { durationSeconds: 10, target: 1667 },
  { durationSeconds: 30, target: 1667 },
  { durationSeconds: 20, target: 0 },
];

/** The full run's sizes; `--quick` shrinks them to a smoke run, `--size` changes one. */
const fullProfile = {
  name: 'full' as 'full' | 'quick',
  seed: {
    stages: seedStages,
    /** Users a request picks from at random (the seed's 1000 pre-allocated users). */
    users: 1000,
    /** The seed's 1000 virtual users: requests in flight at most; later arrivals wait their turn. */
    maxInFlight: 1000,
    /** After the last arrival, how long unanswered requests may still finish. */
    drainSeconds: 30,
    requestTimeoutSeconds: 60,
    /** The bare route runs this variant only (the route ignores the user). */
    variants: ['random-user', 'new-user'] as ('random-user' | 'new-user')[],
  },
  /**
   * `primeSeconds`: before a mode's measured runs, one unmeasured run of that length (after its
   * own warm-up, at the first connection count) against every target of the turn — the bare
   * route, the floor, the service — so none is measured on its first traffic (0: none).
   */
  capacity: { connections: [100, 1000], durationSeconds: 10, warmupSeconds: 2, primeSeconds: 5 },
  polling: {
    waitingUsers: 5000,
    connections: 200,
    durationSeconds: 10,
    sseStreams: 1000,
    /** How many tokens are re-read one by one afterwards to check their positions. */
    positionSample: 200,
  },
  storm: { users: 10_000, connections: 1000, timeoutSeconds: 120 },
  roundTrips: { purchases: 5 },
  purchase: {
    users: 3000,
    maxActive: 300,
    /** A waiting user polls its status this often (±50% jitter). */
    pollIntervalMs: 2000,
    /** Users arrive spread over this many seconds, as at the opening of a sale. */
    arrivalSeconds: 5,
    connections: 500,
    timeoutSeconds: 180,
  },
  pgbench: { clients: 10, transactionsPerClient: 3000 },
  scaleOut: { instances: [1, 2], workers: [1, 2], stages: seedStages, capacitySeconds: 10 },
  /** Events drained as a backlog; latencies over `rounds` publishes of 1 and of a relay batch. */
  eventBuses: { events: 5000, rounds: 50 },
  /** Joins one after another, then a burst of joins at once. */
  queueStream: { joins: 200, burst: 2000 },
  /** Streams open at once; the line stands still, then moves, for `windowSeconds` each. */
  liveStreams: { streams: 5000, intervalMs: 500, windowSeconds: 10, settleSeconds: 5 },
  /** A venue of `seats` in `sections` (rows of 50); its seat map under `connections`; storm and purchases on it. */
  bigConcert: {
    seats: 20_000,
    sections: 20,
    connections: 50,
    durationSeconds: 10,
    stormUsers: 2000,
    purchaseUsers: 1000,
  },
  /** Paid reservations of the cancelled show. */
  showCancel: { reservations: 5000 },
  /** Turns of METRICS=on and off, each `durationSeconds` of the capacity loop. */
  metricsCost: { rounds: 3, connections: 100, durationSeconds: 5 },
  /**
   * A concert's room: `refillSamples` freed slots; the estimate at `perMinute` behind a warm-up
   * line (`warmup` buyers, `warmupSeconds`) of `buyers`, rate window `windowSeconds`; `streams`
   * live streams in one room, `moves` admissions pushed to them.
   */
  rooms: {
    refillSamples: 30,
    perMinute: 120,
    warmup: 60,
    warmupSeconds: 12,
    buyers: 60,
    windowSeconds: 30,
    streams: 10_000,
    moves: 5,
  },
  /** Pre-queue entries moved at an opening; the burst of joins in the second after another one. */
  opening: { entries: 100_000, burstPerSecond: 1667, burstPreQueue: 1000 },
};

export type Profile = typeof fullProfile;

const quickStages = (held: number): Stage[] => [
  { durationSeconds: 1, target: 1667 },
  { durationSeconds: held, target: 1667 },
  { durationSeconds: 1, target: 0 },
];

/** Small sizes and 4-second ramps: keeps the harness alive in CI, measures nothing. */
const quickProfile: Profile = {
  name: 'quick',
  seed: {
    ...fullProfile.seed,
    stages: quickStages(2),
    drainSeconds: 5,
    requestTimeoutSeconds: 10,
    variants: ['random-user'],
  },
  capacity: {
    connections: [100, 1000],
    durationSeconds: 1.5,
    warmupSeconds: 0.5,
    primeSeconds: 0.5,
  },
  polling: {
    waitingUsers: 300,
    connections: 50,
    durationSeconds: 1.5,
    sseStreams: 100,
    positionSample: 50,
  },
  storm: { users: 300, connections: 300, timeoutSeconds: 30 },
  roundTrips: { purchases: 2 },
  purchase: {
    users: 200,
    maxActive: 100,
    pollIntervalMs: 500,
    arrivalSeconds: 1,
    connections: 200,
    timeoutSeconds: 40,
  },
  pgbench: { clients: 10, transactionsPerClient: 150 },
  scaleOut: {
    instances: [1, 2],
    workers: [1, 2],
    stages: quickStages(1),
    capacitySeconds: 1.5,
  },
  eventBuses: { events: 500, rounds: 10 },
  queueStream: { joins: 50, burst: 300 },
  liveStreams: { streams: 100, intervalMs: 500, windowSeconds: 2, settleSeconds: 1 },
  bigConcert: {
    seats: 2000,
    sections: 10,
    connections: 20,
    durationSeconds: 1,
    stormUsers: 100,
    purchaseUsers: 50,
  },
  showCancel: { reservations: 500 },
  metricsCost: { rounds: 1, connections: 100, durationSeconds: 1 },
  rooms: {
    refillSamples: 8,
    perMinute: 300,
    warmup: 40,
    warmupSeconds: 3,
    buyers: 30,
    windowSeconds: 6,
    streams: 200,
    moves: 2,
  },
  opening: { entries: 5000, burstPerSecond: 500, burstPreQueue: 200 },
};

export interface Options {
  profile: Profile;
  quick: boolean;
  /** Queue modes to measure (the bare route always runs). */
  modes: string[];
  scenarios: ScenarioName[];
  /** Modes the scale-out scenario runs for (redis; others only when asked, e.g. to try the harness). */
  scaleOutModes: string[];
  build: boolean;
  /** Run the servers with --cpu-prof and keep the profiles beside the results. */
  cpuProfile: boolean;
  keepDatabases: boolean;
  /** Rewrite docs/benchmarks.md (default: full runs of every scenario at their own sizes only). */
  writeDocs: boolean;
  resultsDir: string;
  /** Extra server settings for every mode (experiments: --env=DB_POOL_SIZE=20). */
  serverEnv: Record<string, string>;
}

export const usage = `npm run bench -- [options]

  --quick                 smoke run of 2–5 minutes (small sizes, short stages): what CI runs
  --modes=a,b             queue modes to measure (default: postgres,redis,stream)
  --only=a,b              scenarios (default: all): ${scenarioNames.join(',')}
  --size=SCENARIO.SIZE=N  change one size of a scenario (repeatable; N or N,N,… for a list),
                          e.g. --size=live-streams.streams=2000 --size=capacity.connections=100
  --scale-out-modes=a,b   modes for the scale-out scenario (default: redis)
  --skip-build            use the existing dist/ instead of running npm run build
  --cpu-prof              run each server with --cpu-prof; profiles go beside the results
  --keep-databases        leave the overture_bench_* databases for inspection
  --env=KEY=VALUE         extra server setting for every mode (repeatable; for experiments)
  --no-docs               never rewrite docs/benchmarks.md
  --help
`;

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** --size=live-streams.streams=2000: a number, or a list of numbers where the size is a list. */
function setSize(profile: Profile, setting: string): void {
  const [, scenario = '', key = '', value = ''] = /^([a-z-]+)\.(\w+)=(.+)$/.exec(setting) ?? [];
  const group = scenario.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const sizes = (profile as unknown as Record<string, Record<string, unknown> | undefined>)[group];
  const current = group === 'name' ? undefined : sizes?.[key];
  const numbers = list(value).map(Number);
  const numeric = numbers.length > 0 && numbers.every((item) => Number.isFinite(item));
  if (sizes && numeric && typeof current === 'number' && numbers.length === 1)
    sizes[key] = numbers[0];
  else if (sizes && numeric && Array.isArray(current) && current.every(Number.isFinite))
    sizes[key] = numbers;
  else
    throw new Error(
      `--size=${setting}: not a numeric size. Sizes: ${Object.entries(fullProfile)
        .filter(([group]) => group !== 'name')
        .map(([group, sizes]) => `${kebab(group)}.{${Object.keys(sizes).join(',')}}`)
        .join(' ')}`,
    );
}

export function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      modes: { type: 'string', default: 'postgres,redis,stream' },
      only: { type: 'string' },
      size: { type: 'string', multiple: true, default: [] },
      'scale-out-modes': { type: 'string', default: 'redis' },
      'skip-build': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'keep-databases': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      env: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const scenarios = values.only === undefined ? [...scenarioNames] : list(values.only);
  for (const scenario of scenarios) {
    if (!scenarioNames.includes(scenario as ScenarioName))
      throw new Error(`Unknown scenario "${scenario}". ${usage}`);
  }
  const profile = structuredClone(values.quick ? quickProfile : fullProfile);
  for (const setting of values.size) setSize(profile, setting);
  const experiment = values.only !== undefined || values.env.length + values.size.length > 0;
  return {
    profile,
    quick: values.quick,
    modes: list(values.modes),
    scenarios: scenarios as ScenarioName[],
    scaleOutModes: list(values['scale-out-modes']),
    build: !values['skip-build'],
    cpuProfile: values['cpu-prof'],
    keepDatabases: values['keep-databases'],
    writeDocs: !values.quick && !values['no-docs'] && !experiment,
    resultsDir: new URL('../results/', import.meta.url).pathname,
    serverEnv: Object.fromEntries(
      values.env.map((pair) => {
        const [key, ...rest] = pair.split('=');
        if (!key || rest.length === 0) throw new Error(`--env wants KEY=VALUE, got "${pair}"`);
        return [key, rest.join('=')];
      }),
    ),
  };
}
