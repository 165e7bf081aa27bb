/**
 * Scale-out metrics (README, "Several instances"). Registered on every instance — a single
 * instance reports them as 0 and state "single" — so dashboards and alerts read one set of names.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ForwardedOp } from '../cluster/engine-wire';
import type { NodeState } from '../cluster/ownership-state';

export interface ClusterMetrics {
  rebalanced(): void;
  ownershipChanged(gained: number, lost: number): void;
  forwarded(op: ForwardedOp, outcome: string, seconds: number): void;
  /** Read at each scrape: what this member owns and in which state it is. */
  observeNode(read: () => NodeReading): void;
}

interface NodeReading {
  state: NodeState;
  ownedPartitions: number;
  leaseLive: boolean;
  /** CLUSTER_PARTITIONS: what the sum of owned partitions over the members should be. */
  partitions: number;
}

const STATES: readonly (NodeState | 'single')[] = ['single', 'joining', 'rebalancing', 'serving', 'stopped'];

export function registerClusterMetrics(registry: Registry): ClusterMetrics {
  const registers = [registry];
  let read: (() => NodeReading) | undefined;
  const rebalances = new Counter({
    name: 'ovation_cluster_rebalances_total',
    help: 'Assignments of the ownership group this member received (each follows a rebalance)',
    registers,
  });
  const ownershipChanges = new Counter({
    name: 'ovation_cluster_ownership_changes_total',
    help: 'Ownership partitions this member gained (claimed under a new epoch) or lost (handed over)',
    labelNames: ['change'] as const,
    registers,
  });
  const forwards = new Histogram({
    name: 'ovation_cluster_forward_seconds',
    help: 'Engine calls forwarded to the owning member, by op and outcome (ok, not_owner, unreachable, unavailable, outcome_unknown, error)',
    labelNames: ['op', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers,
  });
  new Gauge({
    name: 'ovation_cluster_owned_partitions',
    help: 'Ownership partitions this member serves now (0 on a single instance)',
    registers,
    collect() {
      const node = read?.();
      this.set(node && node.state === 'serving' && node.leaseLive ? node.ownedPartitions : 0);
    },
  });
  new Gauge({
    name: 'ovation_cluster_partitions',
    help: 'CLUSTER_PARTITIONS of this member\'s cluster: the sum of ovation_cluster_owned_partitions over the members when every partition is served (0 on a single instance)',
    registers,
    collect() {
      this.set(read?.().partitions ?? 0);
    },
  });
  new Gauge({
    name: 'ovation_cluster_member_state',
    help: 'This member\'s state: 1 for the current one (single: not clustered)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const state = read?.().state ?? 'single';
      for (const each of STATES) this.set({ state: each }, each === state ? 1 : 0);
    },
  });
  ownershipChanges.inc({ change: 'gained' }, 0);
  ownershipChanges.inc({ change: 'lost' }, 0);
  forwards.zero({ op: 'hold', outcome: 'ok' });
  return {
    rebalanced: () => rebalances.inc(),
    ownershipChanged(gained, lost) {
      ownershipChanges.inc({ change: 'gained' }, gained);
      ownershipChanges.inc({ change: 'lost' }, lost);
    },
    forwarded: (op, outcome, seconds) => forwards.observe({ op, outcome }, seconds),
    observeNode(reader) {
      read = reader;
    },
  };
}
