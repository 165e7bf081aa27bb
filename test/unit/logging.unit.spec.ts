/**
 * What the server's logger writes for an error that carries what its client library was sending:
 * ioredis puts the command and its arguments (a queue token) on a ReplyError, pg may put query
 * parameters on its errors. The real Fastify logger with our options, writing to a buffer.
 */
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { ReplyError } from 'ioredis';
import { loggerOptions } from '../../src/http/logging';

function loggerInto(lines: string[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return Fastify({ logger: { ...(loggerOptions('info') as object), stream } }).log;
}

describe('the logger', () => {
  it('when an error carries the command it failed on, then the log has its message and stack but not the command', () => {
    const lines: string[] = [];
    const log = loggerInto(lines);
    const token = '9b0e3c1a-1111-4222-8333-944445555666.SECRETtokenPART';
    const error = Object.assign(new ReplyError('OOM command not allowed when used memory > maxmemory'), {
      command: { name: 'evalsha', args: ['abc', '7', `ovation:q:{c}:t:${token}`, token] },
    });
    const wrapped = new Error('Redis is unavailable', { cause: error });
    log.error({ err: wrapped }, 'request failed');

    const entry = JSON.parse(lines[0]!);
    expect(entry.err.message).toBe('Redis is unavailable');
    expect(entry.err.cause).toEqual(expect.objectContaining({ type: 'ReplyError', message: expect.stringContaining('OOM') }));
    expect(entry.err.stack).toContain('logging.unit.spec');
    expect(lines.join('\n')).not.toContain('SECRETtokenPART');
  });

  it('when something logs request headers, then the secret ones are redacted', () => {
    const lines: string[] = [];
    const log = loggerInto(lines);
    // Fastify's own `req` serializer keeps no headers at all; a bare `headers` object is redacted.
    log.info({ headers: { 'queue-token': 'tok-SECRET', 'x-admin-key': 'key-SECRET', 'idempotency-key': 'idem-SECRET', accept: 'x/y' } }, 'seen');
    expect(lines.join('\n')).not.toMatch(/SECRET/);
    expect(JSON.parse(lines[0]!).headers).toEqual({ 'queue-token': '[redacted]', 'x-admin-key': '[redacted]', 'idempotency-key': '[redacted]', accept: 'x/y' });
  });
});
