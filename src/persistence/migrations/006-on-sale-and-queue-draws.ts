/**
 * On-sale time and the pre-queue draw (api.md, "On-sale time and the pre-queue"). A concert may
 * open its sale at `on_sale_at`; the draw that orders everyone who arrived before it is recorded
 * once per concert: the primary key is what makes it exactly one, however many instances race at
 * the on-sale moment (INSERT … ON CONFLICT DO NOTHING, then read the row that stands), and what a
 * restart finds instead of drawing again. Independent of every other migration after 004.
 */
export const onSaleAndQueueDraws = `
ALTER TABLE concerts ADD COLUMN on_sale_at timestamptz;

CREATE TABLE queue_draws (
  concert_id  uuid PRIMARY KEY REFERENCES concerts (id),
  on_sale_at  timestamptz NOT NULL,
  seed        text NOT NULL CHECK (length(seed) BETWEEN 1 AND 200),
  arrivals    integer NOT NULL CHECK (arrivals >= 0),
  drawn_at    timestamptz NOT NULL DEFAULT now()
);
`;
