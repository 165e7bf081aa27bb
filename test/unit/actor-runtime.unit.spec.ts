import { ActorRuntime, type ActorBehavior, type ActorMailbox } from '../../src/actors/actor-runtime';
import { ActorCrashedError, DecidedTimeoutError, MailboxFullError, RequestTimeoutError } from '../../src/actors/actor-errors';

/** Echoes who asked, so a reply delivered to the wrong caller is visible. */
const echo: ActorBehavior<number, { caller: number }, { caller: number; handled: number }> = {
  initialState: () => 0,
  handle(handled, message, reply) {
    reply.ok({ caller: message.caller, handled: handled + 1 });
    return handled + 1;
  },
};

describe('the nact wrapper', () => {
  let runtime: ActorRuntime;
  beforeEach(() => {
    runtime = new ActorRuntime();
  });
  afterEach(() => {
    runtime.stop();
  });

  it('when 200,000 asks run at once across 1,000 actors, then every caller gets its own reply', async () => {
    // Raw nact `query` resolves replies by 31-bit random ids and mixed up 10 of 200,000 here.
    const actors = Array.from({ length: 1000 }, (_, i) => runtime.spawn(`echo-${i}`, echo, 1_000));
    const asks = Array.from({ length: 200_000 }, (_, caller) => actors[caller % 1000]!.ask({ caller }, 60_000, 60_000));

    const replies = await Promise.all(asks);

    const wrong = replies.filter((reply, caller) => reply.caller !== caller);
    expect(wrong).toHaveLength(0);
    // Each actor handled its 200 messages one at a time.
    expect(replies.reduce((max, r) => Math.max(max, r.handled), 0)).toBe(200);
  }, 120_000);

  it('when the mailbox is full, then the ask fails at once with MailboxFullError', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: ActorBehavior<null, number, number> = {
      initialState: () => null,
      async handle(state, message, reply) {
        await gate;
        reply.ok(message);
        return state;
      },
    };
    const mailbox = runtime.spawn('slow', slow, 3);
    const accepted = [1, 2, 3].map((n) => mailbox.ask(n, 10_000, 10_000));
    await expect(mailbox.ask(99, 10_000, 10_000)).rejects.toBeInstanceOf(MailboxFullError);
    await new Promise((resolve) => setImmediate(resolve));
    // The first message is being handled, which makes room for one more; then it is full again.
    accepted.push(mailbox.ask(4, 10_000, 10_000));
    expect(mailbox.depth).toBe(3);
    await expect(mailbox.ask(5, 10_000, 10_000)).rejects.toBeInstanceOf(MailboxFullError);
    release();
    await expect(Promise.all(accepted)).resolves.toEqual([1, 2, 3, 4]);
  });

  it('when the deadline passes while the message waits in the mailbox, then RequestTimeoutError and the message is never handled', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    const gated: ActorBehavior<null, string, string> = {
      initialState: () => null,
      async handle(state, message, reply) {
        handled.push(message);
        await gate;
        reply.ok(message);
        return state;
      },
    };
    const mailbox = runtime.spawn('gated', gated, 10);
    const first = mailbox.ask('first', 10_000, 10_000);
    const late = mailbox.ask('late', 50, 10_000);
    await expect(late).rejects.toBeInstanceOf(RequestTimeoutError);
    release();
    expect(await first).toBe('first');
    expect(await mailbox.ask('after', 1_000, 1_000)).toBe('after');
    expect(handled).toEqual(['first', 'after']); // 'late' was skipped: its asker had been told no
  });

  it('when an actor decided a command but its answer does not come in time, then DecidedTimeoutError (outcome unknown)', async () => {
    // Decides the command, then never answers (a commit that hangs).
    const silent: ActorBehavior<null, string, string> = {
      initialState: () => null,
      handle: (state, _message, reply) => {
        reply.decide();
        return state;
      },
    };
    const mailbox = runtime.spawn('silent', silent, 10);
    const started = Date.now();
    await expect(mailbox.ask('hello', 20, 150)).rejects.toBeInstanceOf(DecidedTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140); // the ask deadline stopped counting once decided
    expect(mailbox.inFlight).toBe(0);
  });

  it('when a handler throws, then the pending asks fail at once and the actor keeps serving from a fresh state', async () => {
    let crashes = 0;
    const fragile: ActorBehavior<number, 'boom' | 'count' | 'wait', number> = {
      initialState: () => 0,
      handle(count, message, reply) {
        if (message === 'boom') throw new Error('bug');
        if (message === 'wait') return count; // never replies: pending until the crash fails it
        reply.ok(count + 1);
        return count + 1;
      },
      onCrash: () => void crashes++,
    };
    const mailbox: ActorMailbox<'boom' | 'count' | 'wait', number> = runtime.spawn('fragile', fragile, 10);
    expect(await mailbox.ask('count', 1_000, 1_000)).toBe(1);
    const waiting = mailbox.ask('wait', 10_000, 10_000);
    const crashed = mailbox.ask('boom', 10_000, 10_000);
    await expect(waiting).rejects.toBeInstanceOf(ActorCrashedError);
    await expect(crashed).rejects.toBeInstanceOf(ActorCrashedError);
    expect(crashes).toBe(1);
    expect(await mailbox.ask('count', 1_000, 1_000)).toBe(1); // reset to the initial state
  });

  it('when the deadline passes while the actor is busy before deciding (a recovery), then RequestTimeoutError and the command is never decided', async () => {
    let release!: () => void;
    const recovery = new Promise<void>((resolve) => (release = resolve));
    const decided: string[] = [];
    const recovering: ActorBehavior<null, string, string> = {
      initialState: () => null,
      async handle(state, message, reply) {
        await recovery; // the actor took the message, then reloads its state first
        if (!reply.decide()) return state;
        decided.push(message);
        reply.ok(message);
        return state;
      },
    };
    const mailbox = runtime.spawn('recovering', recovering, 10);
    await expect(mailbox.ask('slow', 50, 10_000)).rejects.toBeInstanceOf(RequestTimeoutError);
    release();
    expect(await mailbox.ask('next', 1_000, 1_000)).toBe('next');
    expect(decided).toEqual(['next']);
  });
});
