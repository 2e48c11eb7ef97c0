/**
 * A small TCP proxy for fault tests: the app talks to MariaDB or Redis through it, and the test cuts
 * the line without touching the real service.
 *
 *   const proxy = await TcpProxy.start({ host: '127.0.0.1', port: 3306 });
 *   env.DATABASE_URL = `mysql://root@127.0.0.1:${proxy.port}/db`;
 *   await proxy.cut();                       // refused: live sockets reset, new ones refused
 *   await proxy.cut({ silent: true });       // silent network: live sockets freeze, new ones hang
 *   await proxy.restore();                   // forwarding again, same port
 *   await proxy.close();
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface CutOptions {
  /**
   * false (default): the dependency is down. Live connections are destroyed and new ones refused
   * (the listener closes: ECONNREFUSED).
   * true: the network goes silent. Live connections stay open but nothing passes in either direction,
   * and new connections are accepted and then never answered (as through a black-holing firewall).
   */
  silent?: boolean;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export class TcpProxy {
  private server: Server;
  private readonly pairs = new Set<Pair>();
  /** Connections accepted while black-holing: held open, never forwarded. */
  private readonly held = new Set<Socket>();
  private mode: 'forward' | 'refuse' | 'blackhole' = 'forward';
  private connectionCount = 0;

  private constructor(
    private readonly target: ProxyTarget,
    private listenPort: number,
  ) {
    this.server = this.createListener();
  }

  static async start(target: ProxyTarget): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    await proxy.listen();
    return proxy;
  }

  /** The port on 127.0.0.1 the app should connect to (stable across cut / restore). */
  get port(): number {
    return this.listenPort;
  }

  /** Connections forwarded to the target since start. */
  get forwardedConnections(): number {
    return this.connectionCount;
  }

  /** Connections currently open through the proxy. */
  get liveConnections(): number {
    return this.pairs.size;
  }

  get isCut(): boolean {
    return this.mode !== 'forward';
  }

  async cut(options: CutOptions = {}): Promise<void> {
    if (this.mode !== 'forward') throw new Error('proxy already cut');
    if (options.silent) {
      this.mode = 'blackhole';
      for (const pair of this.pairs) freeze(pair);
      return;
    }
    this.mode = 'refuse';
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const pair of this.pairs) destroy(pair);
    this.pairs.clear();
    await closed;
  }

  /**
   * Forwards again on the same port. Connections frozen by a silent cut are dropped (their peers
   * would long have given up on them); new connections go through.
   */
  async restore(): Promise<void> {
    const previous = this.mode;
    if (previous === 'forward') return;
    for (const pair of this.pairs) destroy(pair);
    this.pairs.clear();
    for (const socket of this.held) socket.destroy();
    this.held.clear();
    this.mode = 'forward';
    if (previous === 'refuse') {
      this.server = this.createListener();
      await this.listen();
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) destroy(pair);
    this.pairs.clear();
    for (const socket of this.held) socket.destroy();
    this.held.clear();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.mode = 'refuse';
  }

  private createListener(): Server {
    const server = createServer({ pauseOnConnect: true }, (client) => this.accept(client));
    server.on('error', () => undefined);
    return server;
  }

  private async listen(): Promise<void> {
    this.server.listen(this.listenPort, '127.0.0.1');
    await Promise.race([
      once(this.server, 'listening'),
      once(this.server, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
    this.listenPort = (this.server.address() as AddressInfo).port;
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'blackhole') {
      // Accepted by the kernel, never read, never answered.
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      return;
    }
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    this.connectionCount++;
    const upstream = connect(this.target.port, this.target.host);
    upstream.on('error', () => undefined);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      if (!this.pairs.delete(pair)) return;
      destroy(pair);
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}

function freeze({ client, upstream }: Pair): void {
  client.unpipe(upstream);
  upstream.unpipe(client);
  client.pause();
  upstream.pause();
}

function destroy({ client, upstream }: Pair): void {
  client.destroy();
  upstream.destroy();
}
