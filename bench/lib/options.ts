import { parseArgs } from 'node:util';

/** One stage of an arrival-rate ramp, as k6's ramping-arrival-rate executor takes it. */
export interface Stage {
  durationSeconds: number;
  /** Requests per second reached (linearly) at the end of the stage. */
  target: number;
}

export type ScenarioName =
  'seed' | 'capacity' | 'polling' | 'storm' | 'purchase' | 'round-trips' | 'pgbench' | 'scale-out';

export const scenarioNames: readonly ScenarioName[] = [
  'seed',
  'capacity',
  'polling',
  'storm',
  'purchase',
  'round-trips',
  'pgbench',
  'scale-out',
];

/** The sizes of every scenario; `--quick` shrinks them to a smoke run of about a minute. */
export interface Profile {
  name: 'full' | 'quick';
  seed: {
    stages: Stage[];
    /** Users a request picks from at random (the seed's 1000 pre-allocated users). */
    users: number;
    /** The seed's 1000 virtual users: requests in flight at most; later arrivals wait their turn. */
    maxInFlight: number;
    /** After the last arrival, how long unanswered requests may still finish. */
    drainSeconds: number;
    requestTimeoutSeconds: number;
    /** The bare route runs this variant only (the route ignores the user). */
    variants: ('random-user' | 'new-user')[];
  };
  capacity: { connections: number[]; durationSeconds: number; warmupSeconds: number };
  polling: {
    waitingUsers: number;
    connections: number;
    durationSeconds: number;
    sseStreams: number;
    /** How many tokens are re-read one by one afterwards to check their positions. */
    positionSample: number;
  };
  storm: { users: number; connections: number; timeoutSeconds: number };
  purchase: {
    users: number;
    maxActive: number;
    /** A waiting user polls its status this often (±50% jitter). */
    pollIntervalMs: number;
    /** Users arrive spread over this many seconds, as at the opening of a sale. */
    arrivalSeconds: number;
    connections: number;
    timeoutSeconds: number;
  };
  pgbench: { clients: number; transactionsPerClient: number };
  roundTrips: { purchases: number };
  scaleOut: { instances: number[]; stages: Stage[]; capacitySeconds: number };
}

const seedStages: Stage[] = [
  { durationSeconds: 10, target: 1667 },
  { durationSeconds: 30, target: 1667 },
  { durationSeconds: 20, target: 0 },
];

export const fullProfile: Profile = {
  name: 'full',
  seed: {
    stages: seedStages,
    users: 1000,
    maxInFlight: 1000,
    drainSeconds: 30,
    requestTimeoutSeconds: 60,
    variants: ['random-user', 'new-user'],
  },
  capacity: { connections: [100, 1000], durationSeconds: 10, warmupSeconds: 2 },
  polling: {
    waitingUsers: 5000,
    connections: 200,
    durationSeconds: 10,
    sseStreams: 1000,
    positionSample: 200,
  },
  storm: { users: 10_000, connections: 1000, timeoutSeconds: 120 },
  purchase: {
    users: 3000,
    maxActive: 300,
    pollIntervalMs: 2000,
    arrivalSeconds: 5,
    connections: 500,
    timeoutSeconds: 180,
  },
  pgbench: { clients: 10, transactionsPerClient: 3000 },
  roundTrips: { purchases: 5 },
  scaleOut: { instances: [1, 2], stages: seedStages, capacitySeconds: 10 },
};

export const quickProfile: Profile = {
  name: 'quick',
  seed: {
    stages: [
      { durationSeconds: 1, target: 1667 },
      { durationSeconds: 2, target: 1667 },
      { durationSeconds: 1, target: 0 },
    ],
    users: 1000,
    maxInFlight: 1000,
    drainSeconds: 5,
    requestTimeoutSeconds: 10,
    variants: ['random-user'],
  },
  capacity: { connections: [100, 1000], durationSeconds: 1.5, warmupSeconds: 0.5 },
  polling: {
    waitingUsers: 300,
    connections: 50,
    durationSeconds: 1.5,
    sseStreams: 100,
    positionSample: 50,
  },
  storm: { users: 300, connections: 300, timeoutSeconds: 30 },
  purchase: {
    users: 200,
    maxActive: 100,
    pollIntervalMs: 500,
    arrivalSeconds: 1,
    connections: 200,
    timeoutSeconds: 40,
  },
  pgbench: { clients: 10, transactionsPerClient: 150 },
  roundTrips: { purchases: 2 },
  scaleOut: {
    instances: [1, 2],
    stages: [
      { durationSeconds: 1, target: 1667 },
      { durationSeconds: 1, target: 1667 },
      { durationSeconds: 1, target: 0 },
    ],
    capacitySeconds: 1.5,
  },
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
  /** Rewrite docs/benchmarks.md (default: full runs of every scenario only). */
  writeDocs: boolean;
  resultsDir: string;
  /** Extra server settings for every mode (experiments: --env=DB_POOL_SIZE=20). */
  serverEnv: Record<string, string>;
}

const usage = `npm run bench -- [options]

  --quick                 smoke run of about a minute (small sizes, short stages)
  --modes=a,b             queue modes to measure (default: postgres,redis,stream)
  --only=a,b              scenarios: ${scenarioNames.join(',')}
  --scale-out-modes=a,b   modes for the scale-out scenario (default: redis)
  --skip-build            use the existing dist/ instead of running npm run build
  --cpu-prof              run each server with --cpu-prof; profiles go beside the results
  --keep-databases        leave the overture_bench_* databases for inspection
  --env=KEY=VALUE         extra server setting for every mode (repeatable; for experiments)
  --no-docs               never rewrite docs/benchmarks.md
  --help
`;

export function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      modes: { type: 'string', default: 'postgres,redis,stream' },
      only: { type: 'string' },
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
  const list = (text: string) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const scenarios = values.only === undefined ? [...scenarioNames] : list(values.only);
  for (const scenario of scenarios) {
    if (!scenarioNames.includes(scenario as ScenarioName))
      throw new Error(`Unknown scenario "${scenario}". ${usage}`);
  }
  const quick = values.quick;
  return {
    profile: quick ? quickProfile : fullProfile,
    quick,
    modes: list(values.modes),
    scenarios: scenarios as ScenarioName[],
    scaleOutModes: list(values['scale-out-modes']),
    build: !values['skip-build'],
    cpuProfile: values['cpu-prof'],
    keepDatabases: values['keep-databases'],
    writeDocs: !quick && !values['no-docs'] && values.only === undefined && values.env.length === 0,
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

export { usage };
