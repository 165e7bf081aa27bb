/**
 * A TCP proxy for fault-injection tests: put it between a client and a server (PostgreSQL,
 * Redis, anything on TCP) and break the link on demand, without touching the server itself.
 *
 *   const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
 *   const client = new Client({ connectionString: proxy.urlFor(databaseUrl) });
 *   proxy.cut();      // network partition: the link hangs, nothing errors
 *   proxy.heal();     // the link works again, late bytes arrive
 *   proxy.resetAll(); // every connection gets a RST, as when the server crashes
 *   proxy.refuse(true); // new connections are closed at once, as while the server is down
 *   await proxy.close();
 *
 * How a cut is modelled. A real partition drops packets; TCP then retransmits them and either
 * the partition ends before the retransmission timeout (the bytes arrive late, nothing is lost)
 * or it does not (both ends give up on the connection). A proxy in the middle of a TCP stream
 * cannot drop bytes without corrupting the protocol above it, so:
 *   - `cut()` pauses both sockets of every connection (nothing is read, so nothing is written;
 *     the peers' writes pile up in the kernel buffers and eventually block, as on a dead link)
 *     and keeps new connections accepted but unforwarded: the upstream connection is opened only
 *     on heal. No FIN, no RST reaches either end while cut, even when one end closes its socket.
 *   - `heal()` resumes: everything written during the cut is delivered late, in order (a
 *     partition shorter than the retransmission timeout), and closes that happened during the
 *     cut are passed on.
 *   - `cut({ dropOnHeal: true })` + `heal()`: every connection that was open at any time during
 *     the cut is reset (RST) on both sides at heal time instead of resumed (a partition longer
 *     than the retransmission timeout: the client sees ECONNRESET when the link comes back).
 *     Connections opened after the heal work normally.
 * Bytes the proxy had already written before the cut (Node's write buffer, the kernel's socket
 * buffers: up to a few hundred KB on a busy stream) are still delivered during the cut: they
 * count as "already on the wire". On an idle connection nothing gets through.
 *
 * Caveat: the proxy's own kernel still ACKs the client's packets during a cut, so TCP keepalive
 * and TCP_USER_TIMEOUT on the client never fire; only application-level timeouts (query or
 * statement timeouts, heartbeats, connect timeouts) can detect the cut — which is exactly what
 * such a test usually wants to check.
 */
import net from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface CutOptions {
  /**
   * When healing, reset (RST, both sides) every connection that was open at any time during the
   * cut instead of resuming it: a partition longer than TCP's retransmission timeout.
   */
  dropOnHeal?: boolean;
}

/** How `refuse(true)` turns new connections away: a FIN right after accept, or a RST. */
export type RefuseMode = 'close' | 'reset';

export interface TcpProxyStats {
  host: string;
  port: number;
  target: ProxyTarget;
  /** Client connections currently open. */
  connections: number;
  /** Client connections accepted and forwarded (or held, while cut) so far; refused ones are not counted. */
  totalConnections: number;
  /** Connections closed at once because `refuse(true)` was on. */
  refusedConnections: number;
  /** Connections reset by `resetAll()`, by `heal()` after `cut({ dropOnHeal: true })`, or because the other side failed. */
  resetConnections: number;
  /** Bytes forwarded from clients to the target / from the target to clients. */
  bytesToTarget: number;
  bytesToClients: number;
  cut: boolean;
  refusing: boolean;
}

export interface TcpProxy {
  /** Always "127.0.0.1" (no brackets needed in a URL). */
  readonly host: string;
  readonly port: number;
  /** "127.0.0.1:<port>" */
  readonly address: string;
  readonly target: ProxyTarget;
  /** Client connections currently open. */
  readonly connections: number;
  /** Client connections accepted so far (refused ones excluded). */
  readonly totalConnections: number;
  readonly isCut: boolean;
  /** `url` with its host and port replaced by the proxy's (e.g. a postgres:// or redis:// URL). */
  urlFor(url: string): string;
  /** Network partition: stop forwarding in both directions, on existing and new connections. */
  cut(options?: CutOptions): void;
  /** Ends a cut (no-op when not cut); see the header for what happens to the connections. */
  heal(): void;
  /** Resets (RST) both sides of every current connection, now, even while cut. */
  resetAll(): void;
  /** While on, new connections are closed at once (existing ones are left alone). */
  refuse(on: boolean, mode?: RefuseMode): void;
  stats(): TcpProxyStats;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  /** Opened at accept time, or at heal time for a connection accepted while cut. */
  upstream: net.Socket | undefined;
  clientClosed: boolean;
  upstreamClosed: boolean;
  /** Was open at some time during the current cut. */
  sawCut: boolean;
  /** Closes/ends that happened during the cut, passed on at heal. */
  deferred: Array<() => void>;
  /** Set once the link has been torn down on purpose: its sockets' own events are ignored. */
  torn: boolean;
}

function resetSocket(socket: net.Socket | undefined): void {
  if (!socket || socket.destroyed) return;
  try {
    // A socket that never connected (or is still connecting) has no TCP connection to reset.
    if (socket.connecting || socket.readyState === 'closed') socket.destroy();
    else socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export async function startTcpProxy(target: ProxyTarget): Promise<TcpProxy> {
  const links = new Set<Link>();
  let isCut = false;
  let dropOnHeal = false;
  let refusing: RefuseMode | undefined;
  let openConnections = 0;
  let totalConnections = 0;
  let refusedConnections = 0;
  let resetConnections = 0;
  let bytesToTarget = 0;
  let bytesToClients = 0;

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  server.on('error', () => undefined); // listen errors surface through the listen promise

  /** Runs now, or at heal time if the link is cut. */
  function whenLinked(link: Link, action: () => void): void {
    if (isCut) link.deferred.push(action);
    else action();
  }

  function tearDown(link: Link, how: 'reset' | 'destroy'): void {
    if (link.torn) return;
    link.torn = true;
    if (how === 'reset') {
      resetConnections++;
      resetSocket(link.client);
      resetSocket(link.upstream);
    } else {
      link.client.destroy();
      link.upstream?.destroy();
    }
  }

  /** Forwards `from` → `to` with backpressure; `from` must be paused while cut. */
  function forward(link: Link, from: net.Socket, to: () => net.Socket | undefined, toTarget: boolean): void {
    from.on('data', (chunk: Buffer) => {
      const destination = to();
      if (link.torn || !destination || destination.destroyed) return;
      if (toTarget) bytesToTarget += chunk.length;
      else bytesToClients += chunk.length;
      if (!destination.write(chunk)) {
        from.pause();
        destination.once('drain', () => {
          if (!isCut && !link.torn) from.resume();
        });
      }
    });
    // allowHalfOpen: a FIN from one side becomes a FIN to the other (after the data before it).
    from.on('end', () => whenLinked(link, () => to()?.end()));
  }

  function connectUpstream(link: Link): void {
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    link.upstream = upstream;
    upstream.setNoDelay(true);
    forward(link, upstream, () => link.client, false);
    upstream.on('error', () => undefined); // 'close' (hadError) follows and handles it
    upstream.on('close', (hadError) => {
      link.upstreamClosed = true;
      if (link.torn || link.clientClosed) return;
      // The target failed (refused, reset, ...): the client sees a reset; a clean close was
      // already passed on as a FIN by the 'end' handler.
      if (hadError) whenLinked(link, () => tearDown(link, 'reset'));
    });
  }

  function pauseLink(link: Link): void {
    link.sawCut = true;
    link.client.pause();
    link.upstream?.pause();
  }

  function resumeLink(link: Link): void {
    if (link.torn) return;
    if (!link.upstream && !link.clientClosed) connectUpstream(link); // accepted while cut
    const deferred = link.deferred.splice(0);
    for (const action of deferred) action();
    if (link.torn) return;
    link.client.resume();
    link.upstream?.resume();
  }

  server.on('connection', (client: net.Socket) => {
    // pauseOnConnect: nothing is read until we decide to forward.
    if (refusing) {
      refusedConnections++;
      client.on('error', () => undefined);
      if (refusing === 'reset') resetSocket(client);
      else client.destroy();
      return;
    }
    totalConnections++;
    openConnections++;
    client.setNoDelay(true);
    const link: Link = {
      client,
      upstream: undefined,
      clientClosed: false,
      upstreamClosed: false,
      sawCut: false,
      deferred: [],
      torn: false,
    };
    links.add(link);
    forward(link, client, () => link.upstream, true);
    client.on('error', () => undefined); // 'close' (hadError) follows and handles it
    client.on('close', (hadError) => {
      link.clientClosed = true;
      openConnections--;
      const finish = (): void => {
        links.delete(link);
        if (link.torn || link.upstreamClosed) return;
        // An aborted client (error/RST) becomes a reset towards the target; a clean close was
        // already passed on as a FIN by the 'end' handler (end() again is harmless).
        if (hadError) tearDown(link, 'reset');
        else if (link.upstream) link.upstream.end();
      };
      if (isCut && !link.torn) link.deferred.push(finish);
      else finish();
    });
    if (isCut) {
      link.sawCut = true; // held: no upstream until heal
    } else {
      connectUpstream(link);
      client.resume();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('tcp proxy: no listening address');
  const port = address.port;
  const host = '127.0.0.1';

  const proxy: TcpProxy = {
    host,
    port,
    address: `${host}:${port}`,
    target: { ...target },
    get connections() {
      return openConnections;
    },
    get totalConnections() {
      return totalConnections;
    },
    get isCut() {
      return isCut;
    },
    urlFor(url: string): string {
      const parsed = new URL(url);
      parsed.hostname = host;
      parsed.port = String(port);
      return parsed.toString();
    },
    cut(options: CutOptions = {}): void {
      if (options.dropOnHeal) dropOnHeal = true;
      if (isCut) return;
      isCut = true;
      for (const link of links) pauseLink(link);
    },
    heal(): void {
      if (!isCut) return;
      isCut = false;
      const drop = dropOnHeal;
      dropOnHeal = false;
      for (const link of [...links]) {
        if (drop && link.sawCut) {
          link.deferred.length = 0;
          tearDown(link, 'reset');
          links.delete(link);
        } else {
          link.sawCut = false;
          resumeLink(link);
        }
      }
    },
    resetAll(): void {
      for (const link of [...links]) {
        tearDown(link, 'reset');
        links.delete(link);
      }
    },
    refuse(on: boolean, mode: RefuseMode = 'close'): void {
      refusing = on ? mode : undefined;
    },
    stats(): TcpProxyStats {
      return {
        host,
        port,
        target: { ...target },
        connections: openConnections,
        totalConnections,
        refusedConnections,
        resetConnections,
        bytesToTarget,
        bytesToClients,
        cut: isCut,
        refusing: refusing !== undefined,
      };
    },
    async close(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const link of [...links]) {
        tearDown(link, 'destroy');
        links.delete(link);
      }
      await closed;
    },
  };
  return proxy;
}
