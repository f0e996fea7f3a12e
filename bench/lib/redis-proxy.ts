/**
 * A counting TCP proxy in front of Redis: relays bytes unchanged and reads the client's RESP
 * arrays to count commands (and their names). Used beside the PostgreSQL proxy by the round-trip
 * scenario, one request at a time.
 */
import net from 'node:net';

/** Streaming reader of RESP arrays of bulk strings (what clients send). */
class CommandReader {
  private buffer: Buffer = Buffer.alloc(0);
  private remainingArgs = 0;
  private name: string | undefined;

  constructor(private readonly onCommand: (name: string) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const lineEnd = this.buffer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const line = this.buffer.toString('latin1', 0, lineEnd);
      if (line.startsWith('*')) {
        this.remainingArgs = Number(line.slice(1));
        this.name = undefined;
        this.buffer = this.buffer.subarray(lineEnd + 2);
        if (this.remainingArgs <= 0) continue;
      } else if (line.startsWith('$')) {
        const length = Number(line.slice(1));
        const end = lineEnd + 2 + length + 2;
        if (this.buffer.length < end) return;
        const value = this.buffer.toString('latin1', lineEnd + 2, lineEnd + 2 + length);
        this.buffer = this.buffer.subarray(end);
        this.name ??= value.toUpperCase();
        if (--this.remainingArgs === 0) this.onCommand(this.name);
      } else {
        // An inline command (one line, space-separated).
        this.buffer = this.buffer.subarray(lineEnd + 2);
        if (line.trim() !== '') this.onCommand(line.trim().split(/\s+/)[0]!.toUpperCase());
      }
    }
  }
}

export class RedisCountingProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  commands = 0;
  readonly names: string[] = [];

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

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const reader = new CommandReader((name) => {
      this.commands++;
      this.names.push(name);
    });
    client.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('close', close);
      socket.on('error', close);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
