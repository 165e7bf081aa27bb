/**
 * The hop to a schedule's owner (src/cluster/engine-forwarder.ts) against a fake owner: what each
 * kind of answer becomes on the forwarding side. A rolling restart showed the case of an owner
 * that is shutting down: its onRequest hook answers a plain 503 before the route runs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EngineForwarder } from '../../src/cluster/engine-forwarder';
import { NotOwnerError, OwnerUnreachableError } from '../../src/cluster/engine-wire';

describe('engine forwarder', () => {
  let owner: http.Server;
  let answer: (res: http.ServerResponse) => void;
  let forwarder: EngineForwarder;
  let ownerUrl: string;
  beforeAll(async () => {
    owner = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(res));
    });
    await new Promise<void>((resolve) => owner.listen(0, '127.0.0.1', resolve));
    ownerUrl = `http://127.0.0.1:${(owner.address() as AddressInfo).port}`;
    forwarder = new EngineForwarder({ selfUrl: 'http://127.0.0.1:1', secret: 'x'.repeat(16), connectTimeoutMs: 500, answerTimeoutMs: 2_000, connectionsPerOwner: 2 });
  });
  afterAll(async () => {
    await forwarder.close();
    await new Promise((resolve) => owner.close(resolve));
  });

  it('when the owner is shutting down and answers a plain 503, then the call fails as "not the owner" (503, nothing applied), not as an internal error', async () => {
    answer = (res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'busy', status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'the server is shutting down' }));
    };
    await expect(forwarder.call(ownerUrl, 'hold', { scheduleId: '00000000-0000-4000-8000-000000000000' })).rejects.toBeInstanceOf(OwnerUnreachableError);
  });

  it('when the owner answers something else without a wire failure, then it is an internal error', async () => {
    answer = (res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"code":"NOT_FOUND"}');
    };
    const failure = await forwarder.call(ownerUrl, 'hold', {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(NotOwnerError);
  });
});
