import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * One HTTP listener that can be taken down and brought back on the same port
 * (the `offline` fault). While down, connecting clients see ECONNREFUSED.
 */
export class Listener {
  private server: Server | undefined;
  private readonly active = new Set<ServerResponse>();
  /** Servers taken down gently whose last connections have not closed yet. */
  private readonly draining = new Set<Server>();
  private boundPort: number;

  constructor(
    private readonly handler: Handler,
    private readonly host: string,
    port: number,
  ) {
    this.boundPort = port;
  }

  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Starts listening (on the port first bound, once there is one). */
  async up(): Promise<void> {
    if (this.server) return;
    // Idle keep-alive connections live 30 s: a client reuses one until about
    // the timeout it is told, so on a busy machine a 5 s timeout let the server
    // close connections clients were reusing at that moment (ECONNRESET)
    const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      this.active.add(res);
      res.once('close', () => this.active.delete(res));
      this.handler(req, res);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e) => {
      this.server = undefined;
      throw e;
    });
    const address = server.address();
    if (address && typeof address === 'object') this.boundPort = address.port;
  }

  /**
   * Stops listening. Idle connections close at once, requests in flight are
   * answered and their connections closed after; `force` resets them all.
   */
  async down(force = false): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (force) {
      for (const s of this.draining) s.closeAllConnections();
    }
    if (!server) return;
    this.draining.add(server);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (force) server.closeAllConnections();
    else {
      for (const res of this.active) if (!res.headersSent) res.shouldKeepAlive = false;
      server.closeIdleConnections();
    }
    await closed;
    this.draining.delete(server);
  }
}
