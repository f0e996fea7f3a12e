/**
 * Counting TCP proxies in front of PostgreSQL and Redis for the round-trip scenario: they relay
 * bytes unchanged and read the protocols' framing to count what the server sends. Requests run one
 * at a time there, so a window of counts is one request.
 */
import net from 'node:net';

/** Reads one connection's bytes: what the client sent, and what the upstream answered. */
interface Tap {
  fromClient(chunk: Buffer): void;
  fromUpstream?(chunk: Buffer): void;
}

/** Listens on a free local port and relays every connection to the upstream through a tap. */
abstract class RelayProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  protected abstract tap(): Tap;

  async listen(): Promise<number> {
    this.server = net.createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address !== 'object') throw new Error('proxy has no port');
    return address.port;
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    const tap = this.tap();
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', close);
      socket.on('error', close);
    }
    client.on('data', (chunk: Buffer) => {
      tap.fromClient(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      tap.fromUpstream?.(chunk);
      client.write(chunk);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

export interface ProxyCounts {
  roundTrips: number;
  statements: number;
  transactions: number;
  /** Index into the SQL log: statements after this one belong to a later window. */
  sqlIndex: number;
}

const SSL_REQUEST = 80877103;

/** Splits a PostgreSQL byte stream into messages; the first `untyped` ones have no type byte. */
class Framer {
  private buffer: Buffer = Buffer.alloc(0);
  /** After an SSLRequest the server answers one bare byte. */
  pendingSingleByte = false;

  constructor(
    private untyped: number,
    private readonly onMessage: (type: string, body: Buffer) => void,
  ) {}

  /** After an SSLRequest the client restarts with an untyped start-up message. */
  expectUntyped(count: number): void {
    this.untyped = count;
  }

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.pendingSingleByte) {
        if (this.buffer.length < 1) return;
        this.pendingSingleByte = false;
        this.buffer = this.buffer.subarray(1);
        continue;
      }
      const typed = this.untyped === 0;
      const header = typed ? 5 : 4;
      if (this.buffer.length < header) return;
      const end = this.buffer.readInt32BE(typed ? 1 : 0) + (typed ? 1 : 0);
      if (this.buffer.length < end) return;
      const type = typed ? String.fromCharCode(this.buffer[0]!) : '';
      const body = this.buffer.subarray(header, end);
      this.buffer = this.buffer.subarray(end);
      if (!typed) this.untyped--;
      this.onMessage(type, body);
    }
  }
}

const cString = (body: Buffer, from: number): [string, number] => {
  const end = body.indexOf(0, from);
  return [body.toString('utf8', from, end), end + 1];
};

/**
 * PostgreSQL: round trips (ReadyForQuery messages), statements (Query and Execute), transactions
 * (returns to the idle state) and the SQL text of each statement.
 */
export class PostgresCountingProxy extends RelayProxy {
  private readonly counts = { roundTrips: 0, statements: 0, transactions: 0 };
  readonly sql: string[] = [];

  snapshot(): ProxyCounts {
    return { ...this.counts, sqlIndex: this.sql.length };
  }

  protected tap(): Tap {
    let startupDone = false;
    /** This connection's parsed statements by name ('' = the unnamed one). */
    const parsed = new Map<string, string>();
    let bound = '';
    const fromServer = new Framer(0, (type, body) => {
      if (type !== 'Z') return;
      // The first ReadyForQuery ends the log-in, not a request.
      if (!startupDone) {
        startupDone = true;
        return;
      }
      this.counts.roundTrips++;
      if (body[0] === 0x49 /* 'I': idle, so a transaction just ended */) this.counts.transactions++;
    });
    const fromClient = new Framer(1, (type, body) => {
      if (type === '') {
        if (body.length === 4 && body.readInt32BE(0) === SSL_REQUEST) {
          fromServer.pendingSingleByte = true;
          fromClient.expectUntyped(1);
        }
      } else if (type === 'Q') {
        this.counts.statements++;
        this.sql.push(cString(body, 0)[0]);
      } else if (type === 'P') {
        // A named statement is parsed once per connection and later only bound by its name.
        const [name, next] = cString(body, 0);
        parsed.set(name, cString(body, next)[0]);
      } else if (type === 'B') {
        const [, next] = cString(body, 0);
        bound = parsed.get(cString(body, next)[0]) ?? '(unknown statement)';
      } else if (type === 'E') {
        this.counts.statements++;
        this.sql.push(bound);
      }
    });
    return {
      fromClient: (chunk) => fromClient.push(chunk),
      fromUpstream: (chunk) => fromServer.push(chunk),
    };
  }
}

export function difference(after: ProxyCounts, before: ProxyCounts): Omit<ProxyCounts, 'sqlIndex'> {
  return {
    roundTrips: after.roundTrips - before.roundTrips,
    statements: after.statements - before.statements,
    transactions: after.transactions - before.transactions,
  };
}

/** Redis: the commands a client sends (RESP arrays of bulk strings, or inline), by name. */
export class RedisCountingProxy extends RelayProxy {
  readonly names: string[] = [];

  get commands(): number {
    return this.names.length;
  }

  protected tap(): Tap {
    let buffer: Buffer = Buffer.alloc(0);
    let remainingArgs = 0;
    let name: string | undefined;
    const fromClient = (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        const lineEnd = buffer.indexOf('\r\n');
        if (lineEnd < 0) return;
        const line = buffer.toString('latin1', 0, lineEnd);
        if (line.startsWith('*')) {
          remainingArgs = Number(line.slice(1));
          name = undefined;
          buffer = buffer.subarray(lineEnd + 2);
        } else if (line.startsWith('$')) {
          const end = lineEnd + 2 + Number(line.slice(1)) + 2;
          if (buffer.length < end) return;
          name ??= buffer.toString('latin1', lineEnd + 2, end - 2).toUpperCase();
          buffer = buffer.subarray(end);
          if (--remainingArgs === 0) this.names.push(name);
        } else {
          buffer = buffer.subarray(lineEnd + 2);
          if (line.trim() !== '') this.names.push(line.trim().split(/\s+/)[0]!.toUpperCase());
        }
      }
    };
    return { fromClient };
  }
}
