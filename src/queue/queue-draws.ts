/**
 * The port through which a waiting line records its pre-queue draw durably (PostgreSQL:
 * src/persistence/queue-draw-store.ts). The line proposes a fresh seed; whichever proposal was
 * recorded first stands, and every instance (and every restart) orders the pre-queue by it.
 */
export interface QueueDraw {
  concertId: string;
  /** Epoch ms. */
  onSaleAt: number;
  /** Epoch ms, on the database's clock. */
  drawnAt: number;
  seed: string;
  /** How many arrivals the line held when the draw was recorded. */
  count: number;
}

export interface QueueDrawProposal {
  concertId: string;
  onSaleAt: number;
  seed: string;
  count: number;
}

export interface QueueDrawStore {
  /** Records the proposal unless the concert has a draw already; returns the draw that stands. */
  claim(proposal: QueueDrawProposal): Promise<QueueDraw>;
  find(concertId: string): Promise<QueueDraw | undefined>;
}
