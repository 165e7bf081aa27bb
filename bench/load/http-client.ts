/**
 * One keep-alive HTTP/1.1 connection per virtual user, one request at a time on it — the k6 model
 * (a VU owns its connection) without the per-request cost of node:http or fetch. Measured on the
 * 2-core bench machine against a trivial server: ~25–30 µs of load-generator CPU per request here,
 * ~35 µs for autocannon, ~80 µs for node:http with a keep-alive Agent, ~95 µs for undici's Agent
 * (Node's bundled one), more for fetch. On 2 cores every microsecond the generator spends is taken
 * from the server under test, so the cheapest correct client wins.
 *
 * Handles what the server under test sends: Content-Length bodies, chunked bodies, bodies ended by
 * the connection closing, `Connection: close`. A lost connection fails the request in flight
 * (status 0) and is re-opened by the next request.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
}

export class TransportError extends Error {}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

type BodyMode = { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'until-close' } | { kind: 'none' };

interface Pending {
  resolve: (response: RawResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class HttpConnection {
  private socket: Socket | null = null;
  private pending: Pending | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private status = 0;
  private headers: Record<string, string> = {};
  private mode: BodyMode | null = null;
  private bodyParts: Buffer[] = [];
  private closeAfter = false;
  private readonly hostHeader: string;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {
    this.hostHeader = `${host}:${port}`;
  }

  /** `headerLines` is pre-formatted (`name: value\r\n` each). */
  request(method: string, path: string, body: string | undefined, headerLines: string): Promise<RawResponse> {
    if (this.pending) return Promise.reject(new Error('HttpConnection: one request at a time'));
    const socket = this.socket ?? this.open();
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new TransportError(`no response within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending = { resolve, reject, timer };
      const length = body === undefined ? 0 : Buffer.byteLength(body);
      const contentType = body === undefined ? '' : 'content-type: application/json\r\n';
      socket.write(
        `${method} ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n${contentType}${headerLines}content-length: ${length}\r\n\r\n${body ?? ''}`,
      );
    });
  }

  close(): void {
    this.fail(new TransportError('connection closed by the load generator'));
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.onClosed(socket, error));
    socket.on('close', () => this.onClosed(socket, undefined));
    this.socket = socket;
    this.resetParser();
    return socket;
  }

  private onClosed(socket: Socket, error: Error | undefined): void {
    if (this.socket !== socket) return;
    this.socket = null;
    if (this.pending && this.mode?.kind === 'until-close') {
      this.complete();
      return;
    }
    if (this.pending) this.fail(new TransportError(error ? error.message : 'connection closed by the server'));
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.destroy();
    }
    this.resetParser();
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  private resetParser(): void {
    this.buffer = Buffer.alloc(0);
    this.mode = null;
    this.bodyParts = [];
    this.headers = {};
    this.status = 0;
    this.closeAfter = false;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (!this.pending) {
      // Bytes nobody asked for: the connection is out of step; drop it.
      this.fail(new TransportError('unexpected data from the server'));
      return;
    }
    try {
      if (this.mode === null && !this.parseHead()) return;
      this.parseBody();
    } catch (error) {
      this.fail(error instanceof Error ? error : new TransportError(String(error)));
    }
  }

  /** False while the head is incomplete. */
  private parseHead(): boolean {
    const end = this.buffer.indexOf(HEAD_END);
    if (end < 0) {
      if (this.buffer.length > 65536) throw new TransportError('response head larger than 64 KiB');
      return false;
    }
    const head = this.buffer.toString('latin1', 0, end);
    this.buffer = this.buffer.subarray(end + 4);
    const lines = head.split('\r\n');
    const statusLine = lines[0] ?? '';
    const status = Number(statusLine.slice(9, 12));
    if (!statusLine.startsWith('HTTP/1.') || !Number.isInteger(status)) throw new TransportError(`bad status line: ${statusLine}`);
    this.status = status;
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.headers = headers;
    this.closeAfter = (headers['connection'] ?? '').toLowerCase() === 'close';
    const length = headers['content-length'];
    if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) this.mode = { kind: 'chunked' };
    else if (length !== undefined) this.mode = { kind: 'length', remaining: Number(length) };
    else if (status === 204 || status === 304 || (status >= 100 && status < 200)) this.mode = { kind: 'none' };
    else this.mode = { kind: 'until-close' };
    return true;
  }

  private parseBody(): void {
    const mode = this.mode;
    if (mode === null) return;
    switch (mode.kind) {
      case 'none':
        this.complete();
        return;
      case 'until-close':
        this.bodyParts.push(this.buffer);
        this.buffer = Buffer.alloc(0);
        return;
      case 'length': {
        const take = Math.min(mode.remaining, this.buffer.length);
        if (take > 0) this.bodyParts.push(this.buffer.subarray(0, take));
        this.buffer = this.buffer.subarray(take);
        mode.remaining -= take;
        if (mode.remaining === 0) this.complete();
        return;
      }
      case 'chunked':
        for (;;) {
          const lineEnd = this.buffer.indexOf(CRLF);
          if (lineEnd < 0) return;
          const size = parseInt(this.buffer.toString('latin1', 0, lineEnd), 16);
          if (!Number.isFinite(size)) throw new TransportError('bad chunk size');
          if (size === 0) {
            // Last chunk; no trailers from the server under test, so "0\r\n\r\n".
            if (this.buffer.length < lineEnd + 4) return;
            this.buffer = this.buffer.subarray(lineEnd + 4);
            this.complete();
            return;
          }
          if (this.buffer.length < lineEnd + 2 + size + 2) return;
          this.bodyParts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
          this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2);
        }
      default: {
        const unknown: never = mode;
        throw new Error(`unknown body mode ${JSON.stringify(unknown)}`);
      }
    }
  }

  private complete(): void {
    const pending = this.pending;
    if (!pending) return;
    const body = this.bodyParts.length === 1 ? this.bodyParts[0]! : Buffer.concat(this.bodyParts);
    const response: RawResponse = { status: this.status, headers: this.headers, body };
    const leftover = this.buffer.length;
    const closeAfter = this.closeAfter || this.mode?.kind === 'until-close';
    this.pending = null;
    clearTimeout(pending.timer);
    this.resetParser();
    if ((closeAfter || leftover > 0) && this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.destroy();
    }
    pending.resolve(response);
  }
}
