/**
 * What the instances say about ownership (GET /v1/admin/cluster), and waits on it: a test acts
 * only once the group has settled, and measures failover as the time until it settles again.
 */
import type { InstanceProcess } from '../../scripts/cluster/instance-process';
import { ADMIN_KEY } from './test-app';

export interface ClusterView {
  self: { url: string; state: 'joining' | 'serving' | 'rebalancing' | 'stopped'; generation: number; ownedPartitions: number[] };
  partitions: number;
  owners: { partition: number; ownerUrl: string; epoch: number; claimedAt: string }[];
  ownedActors: { scheduleId: string; partition: number }[];
  schedule?: { scheduleId: string; partition: number; ownerUrl: string | null; epoch: number | null };
}

export async function clusterView(instanceUrl: string, scheduleId?: string): Promise<ClusterView> {
  const query = scheduleId ? `?scheduleId=${scheduleId}` : '';
  const response = await fetch(`${instanceUrl}/v1/admin/cluster${query}`, {
    headers: { 'x-admin-key': ADMIN_KEY },
    signal: AbortSignal.timeout(2_000),
  });
  if (response.status !== 200) throw new Error(`GET ${instanceUrl}/v1/admin/cluster → ${response.status} ${await response.text()}`);
  return (await response.json()) as ClusterView;
}

/**
 * Every given instance is serving, they agree on who owns each partition, every partition has an
 * owner among them, and each of them owns some. Resolves with partition → owner URL.
 */
export async function settledOwnership(instances: InstanceProcess[], { timeoutMs = 30_000 } = {}): Promise<Map<number, string>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const views = await Promise.all(instances.map((i) => clusterView(i.url)));
      const urls = new Set(instances.map((i) => i.url));
      const owners = new Map<number, string>();
      for (const view of views) {
        for (const partition of view.self.ownedPartitions) owners.set(partition, view.self.url);
      }
      const agreed = views.every((view) =>
        view.self.state === 'serving' &&
        view.self.ownedPartitions.length > 0 &&
        view.owners.length === view.partitions &&
        view.owners.every((o) => urls.has(o.ownerUrl) && owners.get(o.partition) === o.ownerUrl),
      );
      if (agreed && owners.size === views[0]!.partitions) return owners;
      last = JSON.stringify(views.map((v) => ({ self: v.self, owners: v.owners.map((o) => `${o.partition}:${o.ownerUrl}`) })));
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`ownership did not settle in ${timeoutMs} ms: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The instance that owns the schedule, as the (settled) cluster says. */
export async function ownerOf(instances: InstanceProcess[], scheduleId: string): Promise<InstanceProcess> {
  const view = await clusterView(instances[0]!.url, scheduleId);
  const owner = instances.find((i) => i.url === view.schedule?.ownerUrl);
  if (!owner) throw new Error(`no instance owns ${scheduleId}: ${JSON.stringify(view.schedule)}`);
  return owner;
}
