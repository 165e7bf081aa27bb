/**
 * A small typed wrapper over nact. nact is kept for what it does well (one message at a time per
 * actor, ordered per sender) and fenced off where we measured it fail (design.md):
 * - replies never go through nact's `query` (its 31-bit random reply ids collide): every ask
 *   carries a monotonic correlation id resolved through our own pending map, with our own timer;
 * - every ask has a deadline: a message whose asker was answered meanwhile is skipped, never
 *   decided (a nact timeout cancels nothing); once decided, the answer waits for the commit;
 * - mailboxes are bounded here (nact's grow without limit);
 * - onCrash is tiny and total: it fails the actor's pending asks and resets the actor, whose
 *   behaviour then recovers from the database on the next message.
 */
import { dispatch, spawn, start, stop, type Ref } from 'nact';
import { MailboxFullError, ActorCrashedError, RequestTimeoutError, ActorStoppedError, DecidedTimeoutError } from './actor-errors';

export interface Reply<R> {
  /** Resolves the asker. May be called after the handler returned (e.g. after a commit). */
  ok(result: R): void;
  fail(error: Error): void;
  /**
   * Call right before deciding the command. False when its asker has been answered meanwhile
   * (its deadline passed while the actor recovered or the command waited): it must not be
   * decided. True: from now on the answer waits for the commit (bounded by the decided timeout).
   */
  decide(): boolean;
}

/** The behaviour of one actor. `handle` must not throw; a throw is treated as a crash. */
export interface ActorBehavior<S, M, R> {
  initialState(): S;
  handle(state: S, message: M, reply: Reply<R>): S | Promise<S>;
  /** Called (synchronously, must not throw) when nact reports a crash of this actor. */
  onCrash?(error: unknown): void;
}

interface Envelope<M> {
  corrId: number;
  message: M;
}

interface Pending<R> {
  resolve(result: R): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** How long a decided command may take to answer (its commit), once the actor took it. */
  decidedTimeoutMs: number;
}

const NO_REPLY = 0;

/** A running actor as its callers see it: ask with a reply, tell without one. */
export class ActorMailbox<M, R> {
  private readonly pending = new Map<number, Pending<R>>();
  private queued = 0;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly ref: Ref<Envelope<M>>,
    private readonly capacity: number,
    private readonly nextCorrId: () => number,
  ) {}

  /** Messages waiting to be handled (not counting the one being handled). */
  get depth(): number {
    return this.queued;
  }

  /** Asks still waiting for a reply, including those whose commit is in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends `message` with a deadline. If the actor has not decided it `timeoutMs` from now (it
   * waited in the mailbox, or behind a recovery), the asker hears RequestTimeoutError and the
   * command is never decided, so that answer is true. Once decided (`Reply.decide`), its answer
   * waits for its commit, bounded by `decidedTimeoutMs` (then DecidedTimeoutError: outcome unknown).
   */
  ask(message: M, timeoutMs: number, decidedTimeoutMs: number): Promise<R> {
    if (this.stopped) return Promise.reject(new ActorStoppedError(this.name));
    if (this.queued >= this.capacity) return Promise.reject(new MailboxFullError(this.name));
    const corrId = this.nextCorrId();
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(corrId);
        reject(new RequestTimeoutError(this.name));
      }, timeoutMs);
      this.pending.set(corrId, { resolve, reject, timer, decidedTimeoutMs });
      this.queued++;
      dispatch(this.ref, { corrId, message });
    });
  }

  /** Fire-and-forget (timers, self-messages). Bypasses the capacity bound: it must not be lost. */
  tell(message: M): void {
    if (this.stopped) return;
    this.queued++;
    dispatch(this.ref, { corrId: NO_REPLY, message });
  }

  /** Fails every ask still waiting (crash, failed commit, shutdown). */
  failAll(error: Error): void {
    for (const [corrId, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(corrId);
      entry.reject(error);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failAll(new ActorStoppedError(this.name));
    stop(this.ref);
  }

  /**
   * Internal: the actor took a message off its mailbox. False when nobody waits for it any more
   * (its deadline passed, or it was failed): the message must then not be handled.
   */
  taken(corrId: number): boolean {
    this.queued--;
    return corrId === NO_REPLY || this.pending.has(corrId);
  }

  /** Internal: the reply handle for one message. */
  replyFor(corrId: number): Reply<R> {
    if (corrId === NO_REPLY) return { ok: () => undefined, fail: () => undefined, decide: () => true };
    return {
      ok: (result) => this.settle(corrId, (p) => p.resolve(result)),
      fail: (error) => this.settle(corrId, (p) => p.reject(error)),
      decide: () => this.decided(corrId),
    };
  }

  /** The ask's deadline stops; its answer now waits for the commit, at most the decided timeout. */
  private decided(corrId: number): boolean {
    const entry = this.pending.get(corrId);
    if (!entry) return false;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      this.pending.delete(corrId);
      entry.reject(new DecidedTimeoutError(this.name));
    }, entry.decidedTimeoutMs);
    return true;
  }

  private settle(corrId: number, action: (p: Pending<R>) => void): void {
    const entry = this.pending.get(corrId);
    if (!entry) return; // timed out or already failed
    this.pending.delete(corrId);
    clearTimeout(entry.timer);
    action(entry);
  }
}

/** Must not throw: it runs inside the actor's handler. */
export type HandledObserver<M> = (message: M, busySeconds: number) => void;

export class ActorRuntime {
  private readonly system = start();
  private corrSeq = 0;

  /** `handled` hears of every message the actor handled and how long the handler kept it busy. */
  spawn<S, M, R>(name: string, behavior: ActorBehavior<S, M, R>, capacity: number, handled?: HandledObserver<M>): ActorMailbox<M, R> {
    let mailbox: ActorMailbox<M, R> | undefined;
    const ref = spawn(
      this.system,
      async (state: S, envelope: Envelope<M>) => {
        const box = mailbox!;
        if (!box.taken(envelope.corrId)) return state; // its asker has been answered: never decided
        if (!handled) return behavior.handle(state, envelope.message, box.replyFor(envelope.corrId));
        const started = performance.now();
        try {
          return await behavior.handle(state, envelope.message, box.replyFor(envelope.corrId));
        } finally {
          handled(envelope.message, (performance.now() - started) / 1000);
        }
      },
      name,
      {
        initialStateFunc: () => behavior.initialState(),
        onCrash: (_msg: unknown, error: unknown, ctx: { reset: symbol }) => {
          try {
            mailbox?.failAll(new ActorCrashedError(name));
            behavior.onCrash?.(error);
          } catch {
            // onCrash must be total: a throw here would exit the process (design.md).
          }
          return ctx.reset;
        },
      } as never,
    ) as Ref<Envelope<M>>;
    mailbox = new ActorMailbox<M, R>(name, ref, capacity, () => ++this.corrSeq);
    return mailbox;
  }

  stop(): void {
    stop(this.system);
  }
}
