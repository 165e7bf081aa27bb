/**
 * Lets stop() drain: it resolves once every request already accepted has finished (committed or
 * rolled back), and later requests are refused with 503 instead of racing a closing pool.
 */
import { EngineStoppedError } from './engine-errors';

export class InFlight {
  private running = 0;
  private open = false;
  private idle: (() => void)[] = [];

  constructor(private readonly engine: string) {}

  get isOpen(): boolean {
    return this.open;
  }

  openGate(): void {
    this.open = true;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.open) throw new EngineStoppedError(this.engine);
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  /** Closes the gate and waits for the requests already running. */
  async close(): Promise<void> {
    this.open = false;
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
