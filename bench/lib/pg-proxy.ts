/**
 * A counting TCP proxy in front of PostgreSQL: it relays bytes unchanged and reads the protocol's
 * message framing to count round trips (ReadyForQuery messages), statements (Query and Execute),
 * transactions (returns to the idle state) and the SQL text of each statement. Used only by the
 * round-trip scenario, whose requests run one at a time, so a window of counts is one request.
 */
import net from 'node:net';

export interface ProxyCounts {
  roundTrips: number;
  statements: number;
  transactions: number;
  /** Index into the SQL log: statements after this one belong to a later window. */
  sqlIndex: number;
}

const SSL_REQUEST = 80877103;

/** Splits a byte stream into protocol messages; the first `untyped` ones have no type byte. */
class Framer {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(
    private untyped: number,
    private readonly onMessage: (type: string, body: Buffer) => void,
  ) {}

  /** After an SSLRequest the other side answers one bare byte, and the client restarts untyped. */
  expectUntyped(count: number): void {
    this.untyped = count;
  }

  pendingSingleByte = false;

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.pendingSingleByte) {
        if (this.buffer.length < 1) return;
        this.pendingSingleByte = false;
        this.buffer = this.buffer.subarray(1);
        continue;
      }
      if (this.untyped > 0) {
        if (this.buffer.length < 4) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const body = this.buffer.subarray(4, length);
        this.buffer = this.buffer.subarray(length);
        this.untyped--;
        this.onMessage('', body);
        continue;
      }
      if (this.buffer.length < 5) return;
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < length + 1) return;
      const type = String.fromCharCode(this.buffer[0]!);
      const body = this.buffer.subarray(5, length + 1);
      this.buffer = this.buffer.subarray(length + 1);
      this.onMessage(type, body);
    }
  }
}

const cString = (body: Buffer, from: number): [string, number] => {
  const end = body.indexOf(0, from);
  return [body.toString('utf8', from, end), end + 1];
};

export class CountingProxy {
  private server: net.Server | undefined;
  private readonly counts = { roundTrips: 0, statements: 0, transactions: 0 };
  readonly sql: string[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  async listen(): Promise<number> {
    this.server = net.createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address !== 'object') throw new Error('proxy has no port');
    return address.port;
  }

  snapshot(): ProxyCounts {
    return { ...this.counts, sqlIndex: this.sql.length };
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let startupDone = false;
    /** This connection's parsed statements by name ('' = the unnamed one), and the one bound last. */
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
        return;
      }
      if (type === 'Q') {
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
    client.on('data', (chunk: Buffer) => {
      fromClient.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      fromServer.push(chunk);
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

export function difference(after: ProxyCounts, before: ProxyCounts): Omit<ProxyCounts, 'sqlIndex'> {
  return {
    roundTrips: after.roundTrips - before.roundTrips,
    statements: after.statements - before.statements,
    transactions: after.transactions - before.transactions,
  };
}
