/**
 * The Docker files (docker/) checked without a Docker engine: CI has the docker client only and
 * cannot build or run images. What can go wrong without anyone noticing is checked here:
 * - `docker-compose config` accepts docker/compose.yml (the Debian package, installed by
 *   scripts/ensure-tools.sh when missing), with health-gated start-up and named volumes;
 * - every variable the compose file and the Dockerfile give the app is one src/config.ts reads,
 *   and the values pass loadConfig — as the entrypoint leaves them, in cluster mode (the default:
 *   each replica advertises its own address) and in single-instance mode; every host name in
 *   them is a compose service;
 * - the load balancer (nginx) fronts the service `app` from a config file in the repository, and
 *   retries another replica on connection errors only;
 * - the Dockerfile's runtime stage runs as a non-root user with a HEALTHCHECK, its COPY sources
 *   exist, and both health checks (app, gateway simulator) pass against the real thing;
 * - every metric named by the Prometheus alerts and the Grafana dashboard is one /metrics exports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import { startTestApp, type TestApp } from '../support/test-app';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(__dirname, '../..');
const DOCKER = path.join(ROOT, 'docker');
const read = (relative: string): string => readFileSync(path.join(ROOT, relative), 'utf8');

/** What the brief and the README promise the app is given. */
const APP_VARIABLES = [
  'DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS', 'PAYMENT_GATEWAY_URL', 'ADMIN_API_KEY', 'HOST', 'PORT', 'LOG_LEVEL',
  'CLUSTER_ADVERTISE_URL', 'CLUSTER_SECRET', 'CLUSTER_PARTITIONS',
];
const EXPECTED_SERVICES = ['app', 'lb', 'gateway-sim', 'postgres', 'redis', 'kafka', 'prometheus', 'grafana'];
/** Where the compose file mounts the load balancer's config (the nginx image includes conf.d/*.conf in http {}). */
const LB_CONFIG_TARGET = '/etc/nginx/conf.d/default.conf';

// ---- the little of the compose, Dockerfile, Prometheus and Grafana formats these tests read ----

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  entrypoint?: string | string[];
  command?: string | string[];
  deploy?: { replicas?: number };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target?: number | string; published?: number | string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

function service(compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`compose file has no service "${name}"`);
  return found;
}

/** environment as a map (compose allows a map or a list of NAME=value). */
function environment(svc: ComposeService): Record<string, string | undefined> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const at = entry.indexOf('=');
      return at < 0 ? [entry, undefined] : [entry.slice(0, at), entry.slice(at + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? undefined : String(v)]));
}

function dependencies(svc: ComposeService): Record<string, string> {
  const deps = svc.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']));
}

function dockerfileOf(svc: ComposeService): string | undefined {
  if (svc.build === undefined) return undefined;
  return typeof svc.build === 'string' ? 'Dockerfile' : svc.build.dockerfile ?? 'Dockerfile';
}

/** Bind mounts as { source, target }, from the short (src:dst[:mode]) or the long syntax. */
function bindMounts(svc: ComposeService, composeDir: string): Array<{ source: string; target: string }> {
  const mounts: Array<{ source: string; target: string }> = [];
  for (const volume of svc.volumes ?? []) {
    if (typeof volume === 'string') {
      const [source = '', target = ''] = volume.split(':');
      if (source.startsWith('.') || source.startsWith('/')) mounts.push({ source: path.resolve(composeDir, source), target });
    } else if (volume.type === 'bind' && volume.source !== undefined && volume.target !== undefined) {
      mounts.push({ source: path.resolve(composeDir, volume.source), target: volume.target });
    }
  }
  return mounts;
}

function namedVolumes(svc: ComposeService): string[] {
  return (svc.volumes ?? []).flatMap((volume) => {
    if (typeof volume === 'string') {
      const source = volume.split(':')[0] ?? '';
      return volume.includes(':') && /^[A-Za-z0-9][\w.-]*$/.test(source) ? [source] : [];
    }
    return volume.type === 'volume' && volume.source !== undefined ? [volume.source] : [];
  });
}

function portMappings(svc: ComposeService): Array<{ published: string | undefined; target: string }> {
  return (svc.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return { published: port.published === undefined ? undefined : String(port.published), target: String(port.target) };
    }
    const parts = String(port).split(':'); // [ip:]published:target or just target
    const target = (parts.pop() ?? '').replace(/\/(tcp|udp)$/, '');
    return { published: parts.pop(), target };
  });
}

interface DockerInstruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions (continuation lines joined, comments dropped), split into stages. */
function dockerStages(text: string): Array<{ name: string | undefined; instructions: DockerInstruction[] }> {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Array<{ name: string | undefined; instructions: DockerInstruction[] }> = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === 'FROM') stages.push({ name: /\bAS\s+(\S+)\s*$/i.exec(args)?.[1], instructions: [] });
    stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** Names of the series a PromQL expression reads (functions, keywords, labels and ranges left out). */
function promqlMetricNames(expr: string): string[] {
  const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2', 'group_left', 'group_right']);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries ($__rate_interval included)
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/(?<![\w.$])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, name = '', call] = match;
    if (call !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.push(name);
  }
  return names;
}

/** Metric families in a Prometheus text exposition, from their `# TYPE name type` lines. */
function exportedFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const [, name = '', type = ''] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(name, type);
  return families;
}

/** The family a series name belongs to: histograms and summaries add suffixes to theirs. */
function familyOf(series: string, families: Map<string, string>): string | undefined {
  if (families.has(series)) return series;
  const match = /^(.+)_(bucket|sum|count)$/.exec(series);
  if (match === null) return undefined;
  const [, base = '', suffix] = match;
  const type = families.get(base);
  if (type === 'histogram') return base;
  if (type === 'summary' && suffix !== 'bucket') return base;
  return undefined;
}

interface DashboardPanel {
  title?: string;
  targets?: Array<{ expr?: string; datasource?: { uid?: string } }>;
  panels?: DashboardPanel[];
}

function dashboardPanels(panels: DashboardPanel[] = []): DashboardPanel[] {
  return panels.flatMap((panel) => [panel, ...dashboardPanels(panel.panels)]);
}

/** Every provisioned dashboard (docker/grafana/dashboards/*.json), by file name. */
function dashboards(): Array<{ file: string; panels: DashboardPanel[] }> {
  return readdirSync(path.join(DOCKER, 'grafana/dashboards'))
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ file, panels: dashboardPanels((JSON.parse(read(`docker/grafana/dashboards/${file}`)) as { panels?: DashboardPanel[] }).panels) }));
}

function dashboardExpressions(): Array<{ where: string; expr: string }> {
  return dashboards().flatMap(({ file, panels }) =>
    panels.flatMap((panel) =>
      (panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [{ where: `dashboard ${file} "${panel.title}"`, expr: target.expr }])),
    ),
  );
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string; for?: string }> }>;
}

function alertExpressions(): Array<{ where: string; expr: string }> {
  const rules = parse(read('docker/prometheus/alerts.yml')) as RuleFile;
  return rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr })));
}

/** A compose string as the container sees it: `$$` is compose's escape for a literal `$`. */
const unescapeCompose = (value: string): string => value.replace(/\$\$/g, '$');

/**
 * The environment the app process really starts with: the service's entrypoint run as in the
 * container, with the command replaced by `env -0` (so whatever the entrypoint exports or
 * rewrites, CLUSTER_ADVERTISE_URL above all, is what is checked).
 */
async function startupEnvironment(svc: ComposeService): Promise<Record<string, string>> {
  const entrypoint = typeof svc.entrypoint === 'string' ? ['sh', '-c', svc.entrypoint] : svc.entrypoint ?? [];
  if (entrypoint.length === 0) return Object.fromEntries(Object.entries(environment(svc)).filter((e): e is [string, string] => e[1] !== undefined));
  const [program = '', ...args] = entrypoint.map(unescapeCompose);
  const given = Object.fromEntries(Object.entries(environment(svc)).filter((e): e is [string, string] => e[1] !== undefined));
  const { stdout } = await execFileAsync(program, [...args, 'env', '-0'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...given },
    timeout: 10_000,
  });
  return Object.fromEntries(
    stdout
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

/** Runs a health check's exec-form command (`["CMD", ...]`) with extra environment; its exit code. */
async function runHealthcheck(command: string[], env: Record<string, string> = {}): Promise<number> {
  const [program = '', ...args] = command;
  try {
    await execFileAsync(program, args, { env: { ...process.env, ...env }, timeout: 10_000 });
    return 0;
  } catch (error) {
    return typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1;
  }
}

/** `HEALTHCHECK [options] CMD ["…", …]` → the argv. */
function dockerHealthcheckArgv(instruction: DockerInstruction): string[] {
  const json = /\bCMD\s+(\[.*\])\s*$/.exec(instruction.args)?.[1];
  if (json === undefined) throw new Error(`HEALTHCHECK is not in exec form: ${instruction.args}`);
  return JSON.parse(json) as string[];
}

// ---------------------------------------------------------------------------------------------

describe('docker/compose.yml through docker-compose config', () => {
  let normalized: ComposeFile;
  /** As documented for one instance: APP_REPLICAS=1 CLUSTER_ADVERTISE_URL= docker compose … up */
  let single: ComposeFile;

  beforeAll(async () => {
    // CI starts from a fresh machine: the Debian package takes ~10 s to install (apt-get update included).
    await execFileAsync('bash', [path.join(ROOT, 'scripts/ensure-tools.sh'), 'docker-compose'], { cwd: ROOT, timeout: 170_000 });
    // A bare environment, so the shell's ADMIN_API_KEY, LOG_LEVEL, … cannot change what is checked.
    const config = async (extra: Record<string, string>) => {
      const { stdout } = await execFileAsync('docker-compose', ['-f', path.join(DOCKER, 'compose.yml'), 'config'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ...extra },
        timeout: 60_000,
      });
      return parse(stdout) as ComposeFile;
    };
    normalized = await config({});
    single = await config({ APP_REPLICAS: '1', CLUSTER_ADVERTISE_URL: '' });
  }, 180_000);

  it('when the compose file is normalized, then it is valid and has every service', () => {
    expect(Object.keys(normalized.services).sort()).toEqual([...EXPECTED_SERVICES].sort());
  });

  it('when a service starts after another is healthy, then that one has a health check', () => {
    const appDockerfile = read('docker/Dockerfile');
    for (const [name, svc] of Object.entries(normalized.services)) {
      for (const [dependency, condition] of Object.entries(dependencies(svc))) {
        if (condition !== 'service_healthy') continue;
        const target = service(normalized, dependency);
        const inCompose = target.healthcheck?.test !== undefined && target.healthcheck.disable !== true;
        const inImage = dockerfileOf(target) === 'docker/Dockerfile' && /^HEALTHCHECK\s+(?!NONE)/m.test(appDockerfile);
        expect({ name, dependency, healthChecked: inCompose || inImage }).toEqual({ name, dependency, healthChecked: true });
      }
    }
  });

  it('when the stack starts, then the app waits for healthy PostgreSQL, Redis, Kafka and gateway simulator', () => {
    expect(dependencies(service(normalized, 'app'))).toEqual({
      postgres: 'service_healthy',
      redis: 'service_healthy',
      kafka: 'service_healthy',
      'gateway-sim': 'service_healthy',
    });
    expect(dependencies(service(normalized, 'grafana'))).toEqual({ prometheus: 'service_healthy' });
    for (const name of ['postgres', 'redis', 'kafka', 'gateway-sim', 'prometheus']) {
      expect({ name, test: service(normalized, name).healthcheck?.test }).toEqual({ name, test: expect.any(Array) });
    }
    expect(service(normalized, 'postgres').healthcheck?.test).toContain('pg_isready');
    expect(service(normalized, 'redis').healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(service(normalized, 'kafka').healthcheck?.test).toContain('/opt/kafka/bin/kafka-broker-api-versions.sh');
  });

  it('when data must outlive a container, then PostgreSQL and Kafka keep it in named volumes, and Redis keeps none', () => {
    const declared = Object.keys(normalized.volumes ?? {});
    for (const [name, mountPoint] of [['postgres', '/var/lib/postgresql/data'], ['kafka', '/var/lib/kafka/data']] as const) {
      const volumes = namedVolumes(service(normalized, name));
      expect(volumes).toHaveLength(1);
      expect(declared).toContain(volumes[0]);
      expect(JSON.stringify(service(normalized, name).volumes)).toContain(mountPoint);
    }
    const redisCommand = service(normalized, 'redis').command;
    expect(redisCommand).toEqual(expect.arrayContaining(['--appendonly', 'no', '--save', '']));
  });

  it('when the app is scaled (3 replicas by default, --scale app=N), then it has no single fixed host port', () => {
    expect(service(normalized, 'app').deploy?.replicas).toBe(3);
    expect(service(single, 'app').deploy?.replicas).toBe(1);
    const ports = portMappings(service(normalized, 'app'));
    expect(ports.length).toBeGreaterThan(0);
    for (const { published } of ports) {
      // unpublished (a random host port) or a range: one free port per replica
      expect(published === undefined || /^\d+-\d+$/.test(published)).toBe(true);
    }
    // …and none of them is the load balancer's.
    const lbPorts = portMappings(service(normalized, 'lb')).map((p) => Number(p.published));
    for (const { published } of ports) {
      const [from = 0, to = from] = (published ?? '').split('-').map(Number);
      for (const port of lbPorts) expect({ published, clashesWithLb: port >= from && port <= to }).toEqual({ published, clashesWithLb: false });
    }
  });

  it('when the replicas start, then each advertises its own address to the others, with a shared secret, in cluster mode', async () => {
    const app = service(normalized, 'app');
    expect(environment(app).CLUSTER_ADVERTISE_URL).toBe('auto'); // the same for every replica, replaced at start
    const env = await startupEnvironment(app);
    const config = loadConfig(env);
    expect(config.engine).toBe('actor');
    expect(config.cluster).toEqual(expect.objectContaining({ partitions: 48 }));
    expect(config.cluster!.secret.length).toBeGreaterThanOrEqual(16);
    // This machine's address as `hostname -i` gives it, as the container's would be: not a shared name.
    const advertised = new URL(config.cluster!.advertiseUrl);
    expect(advertised.protocol).toBe('http:');
    expect(advertised.hostname).toMatch(/^[\d.]+$|^\[[\da-f:]+\]$/i);
    expect(Number(advertised.port || 80)).toBe(config.port);
    // The process the entrypoint ends with is the service's command (and keeps the other variables).
    expect(service(normalized, 'app').command).toEqual(['node', 'dist/src/main.js']);
    expect(env.DATABASE_URL).toBe(environment(app).DATABASE_URL);
  });

  it('when the documented single-instance override is used, then the app starts in single-instance mode', async () => {
    const app = service(single, 'app');
    const env = await startupEnvironment(app);
    expect(loadConfig(env).cluster).toBeUndefined();
  });

  it('when clients reach the app, then nginx round-robins over the replicas and retries another only when one cannot be reached', () => {
    const lb = service(normalized, 'lb');
    expect(dependencies(lb)).toEqual({ app: 'service_healthy' });
    expect(portMappings(lb)).toEqual([{ published: '3000', target: '80' }]);
    const mount = bindMounts(lb, DOCKER).find((m) => m.target === LB_CONFIG_TARGET);
    expect(mount).toBeDefined();
    expect(mount!.source.startsWith(DOCKER + path.sep)).toBe(true);
    const nginx = readFileSync(mount!.source, 'utf8').replace(/#.*$/gm, '');
    const appPort = loadConfig(environment(service(single, 'app'))).port;
    // The upstream is the compose service `app` (every replica's address, re-resolved), on the port the app listens on.
    expect(nginx).toMatch(new RegExp(`upstream\\s+(\\w+)\\s*\\{[^}]*\\bserver\\s+app:${appPort}\\b[^;]*\\bresolve\\b`));
    const upstreamName = /upstream\s+(\w+)/.exec(nginx)?.[1];
    expect(nginx).toMatch(new RegExp(`proxy_pass\\s+http://${upstreamName};`));
    expect(nginx).toMatch(/^\s*resolver\s+127\.0\.0\.11\b/m); // Docker's embedded DNS
    expect(nginx).toMatch(/^\s*listen\s+80;/m);
    // Round-robin: no other balancing method, no sticky routing (any member forwards to the owner).
    expect(nginx).not.toMatch(/\b(ip_hash|hash|least_conn|random|sticky)\b/);
    // Retries: on connection errors only — never on timeout or an HTTP status, never for a POST already sent.
    const retries = [...nginx.matchAll(/^\s*proxy_next_upstream\s+([^;]+);/gm)].map((m) => m[1]!.trim());
    expect(retries).toEqual(['error']);
    // The members' internal hop is not reachable through the public port.
    expect(nginx).toMatch(/location\s+\/internal\/\s*\{\s*deny\s+all;\s*\}/);
    // `resolve` in an upstream needs nginx 1.27.3 or newer (1.28 is the first stable line with it).
    const [, major = '0', minor = '0'] = /^nginx:(\d+)\.(\d+)/.exec(lb.image ?? '') ?? [];
    expect(Number(major) * 1000 + Number(minor)).toBeGreaterThanOrEqual(1028);
  });

  it('when the app is configured, then its values pass loadConfig and its host names are compose services', async () => {
    const env = environment(service(normalized, 'app'));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(APP_VARIABLES));
    const config = loadConfig(await startupEnvironment(service(normalized, 'app')));
    const services = Object.keys(normalized.services);
    const hosts = [
      new URL(config.databaseUrl ?? '').hostname,
      new URL(config.redisUrl ?? '').hostname,
      new URL(config.gateway.url ?? '').hostname,
      ...config.kafkaBrokers.map((broker) => broker.replace(/:\d+$/, '')),
    ];
    for (const host of hosts) expect(services).toContain(host);
    // The port it listens on is the one published, scraped by Prometheus and probed by HEALTHCHECK ($PORT).
    expect(portMappings(service(normalized, 'app')).map((p) => p.target)).toEqual([String(config.port)]);
    const prometheus = parse(read('docker/prometheus/prometheus.yml')) as {
      scrape_configs: Array<{ metrics_path?: string; dns_sd_configs?: Array<{ names: string[]; port: number }> }>;
    };
    const sd = prometheus.scrape_configs.flatMap((job) => job.dns_sd_configs ?? []);
    expect(sd).toEqual([expect.objectContaining({ names: ['app'], port: config.port })]);
    expect(config.host).toBe('0.0.0.0');
  });

  it('when a file is bind-mounted, then it exists in the repository', () => {
    const mounts = Object.values(normalized.services).flatMap((svc) => bindMounts(svc, DOCKER));
    expect(mounts.length).toBeGreaterThan(0);
    for (const { source } of mounts) expect({ source, exists: existsSync(source) }).toEqual({ source, exists: true });
    // Prometheus loads its rule files from where the compose file mounts them; Grafana its dashboards.
    const prometheusTargets = bindMounts(service(normalized, 'prometheus'), DOCKER).map((m) => m.target);
    const config = parse(read('docker/prometheus/prometheus.yml')) as { rule_files?: string[] };
    for (const rules of config.rule_files ?? []) expect(prometheusTargets).toContain(path.posix.resolve('/etc/prometheus', rules));
    const provider = parse(read('docker/grafana/provisioning/dashboards/ovation.yml')) as { providers: Array<{ options: { path: string } }> };
    const grafanaTargets = bindMounts(service(normalized, 'grafana'), DOCKER).map((m) => m.target);
    for (const { options } of provider.providers) expect(grafanaTargets).toContain(options.path);
  });
});

describe('environment variables given to the app', () => {
  const configSource = read('src/config.ts');
  const reads = (name: string): boolean => configSource.includes(`'${name}'`);

  it('when docker/compose.yml gives the app a variable, then src/config.ts reads it', () => {
    const compose = parse(read('docker/compose.yml')) as ComposeFile;
    const names = Object.keys(environment(service(compose, 'app')));
    expect(names).toEqual(expect.arrayContaining(APP_VARIABLES));
    expect(names.filter((name) => !reads(name))).toEqual([]);
  });

  it('when the Dockerfile sets a variable, then src/config.ts reads it (NODE_ENV aside: it is for npm and libraries)', () => {
    const runtime = dockerStages(read('docker/Dockerfile')).at(-1);
    const names = (runtime?.instructions ?? [])
      .filter((i) => i.keyword === 'ENV')
      .flatMap((i) => [...i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] ?? ''));
    expect(names).toEqual(expect.arrayContaining(['NODE_ENV', 'HOST']));
    expect(names.filter((name) => name !== 'NODE_ENV' && !reads(name))).toEqual([]);
  });
});

describe('docker/Dockerfile', () => {
  const text = read('docker/Dockerfile');
  const stages = dockerStages(text);
  const runtime = stages.at(-1)?.instructions ?? [];
  const find = (keyword: string) => runtime.filter((i) => i.keyword === keyword);

  it('when the image runs, then it runs as a non-root user with a HEALTHCHECK on /health/ready', () => {
    const user = find('USER').at(-1)?.args ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    const healthchecks = find('HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    expect(healthchecks[0]?.args).toMatch(/^(?!NONE).*\/health\/ready/);
    expect(dockerHealthcheckArgv(healthchecks[0]!)[0]).toBe('node'); // slim has no curl
  });

  it('when the image is built, then deps, build and runtime stages install, compile and keep production dependencies only', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'runtime']);
    expect(stages[0]?.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))).toBe(true);
    expect(stages[1]?.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args))).toBe(true);
    expect(find('RUN').some((i) => /\bnpm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(text).toMatch(/^ARG NODE_IMAGE=node:20[\w.-]*-slim$/m);
    expect(find('ENV').map((i) => i.args).join(' ')).toMatch(/\bNODE_ENV=production\b/);
    expect(find('EXPOSE').map((i) => i.args)).toEqual(['3000']);
    // The same entry point as `npm start`.
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start;
    expect(JSON.parse(find('CMD').at(-1)?.args ?? '[]')).toEqual(['node', 'dist/src/main.js']);
    expect(start).toBe('node dist/src/main.js');
  });

  it('when the build context is sent, then every COPY source exists and /.dockerignore does not leave it out', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', '**/node_modules', 'dist', '.services']));
    const sources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const source of sources) {
      expect({ source, exists: existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
      const top = source.split('/')[0];
      expect({ source, ignored: ignored.some((pattern) => pattern === source || pattern === top) }).toEqual({ source, ignored: false });
    }
  });
});

describe('the health checks and the simulator build, run for real', () => {
  let outDir: string;
  let simulator: ChildProcess | undefined;

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'ovation-docker-build-'));
    // The Dockerfile's build stage compiles the simulator's CLI with this config into dist/.
    await execFileAsync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'docker/tsconfig.gateway-sim.json', '--outDir', outDir], {
      cwd: ROOT,
      timeout: 120_000,
    });
  }, 130_000);

  afterAll(() => {
    simulator?.kill('SIGTERM');
    rmSync(outDir, { recursive: true, force: true });
  });

  it('when the simulator CLI is compiled as in the image, then it lands where gateway-sim runs it and answers its health check', async () => {
    const compose = parse(read('docker/compose.yml')) as ComposeFile;
    const gateway = service(compose, 'gateway-sim');
    const command = gateway.command as string[];
    expect(command.slice(0, 2)).toEqual(['node', 'dist/scripts/gateway-sim.js']);
    const script = path.join(outDir, 'scripts/gateway-sim.js');
    expect(existsSync(script)).toBe(true);

    // Run it as compose does, on a free port instead of 4010, and probe it with the compose health check.
    const args = command.slice(2).map((arg, i, all) => (all[i - 1] === '--port' ? '0' : arg === '0.0.0.0' ? '127.0.0.1' : arg));
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    simulator = child;
    const port = await new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`gateway-sim exited with ${code}: ${output}`)));
    });
    const probe = (gateway.healthcheck?.test as string[]).slice(1).map((arg) => arg.replace(':4010/', `:${port}/`));
    expect(await runHealthcheck(probe)).toBe(0);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    simulator = undefined;
    expect(await runHealthcheck(probe)).toBe(1);
  }, 30_000);
});

describe('metrics named by the Prometheus alerts and the Grafana dashboard', () => {
  let t: TestApp;
  let families: Map<string, string>;
  let exposition: string;

  beforeAll(async () => {
    t = await startTestApp();
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    exposition = response.body;
    families = exportedFamilies(response.body);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('when prometheus.yml and alerts.yml are parsed, then they are YAML with the scrape job and the alert rules', () => {
    const config = parse(read('docker/prometheus/prometheus.yml')) as { scrape_configs: Array<{ metrics_path?: string }>; rule_files: string[] };
    expect(config.scrape_configs.map((job) => job.metrics_path ?? '/metrics')).toEqual(['/metrics']);
    expect(config.rule_files).toEqual(['alerts.yml']);
    const rules = parse(read('docker/prometheus/alerts.yml')) as RuleFile;
    const alerts = rules.groups.flatMap((group) => group.rules);
    expect(alerts.length).toBeGreaterThanOrEqual(2);
    for (const rule of alerts) expect(rule).toEqual(expect.objectContaining({ alert: expect.any(String), expr: expect.any(String), for: expect.any(String) }));
  });

  it('when an alert or a dashboard panel reads a metric, then the server exports it (or Prometheus makes it: up)', () => {
    const expressions = [...alertExpressions(), ...dashboardExpressions()];
    expect(expressions.length).toBeGreaterThan(20);
    const unknown: string[] = [];
    for (const { where, expr } of expressions) {
      const names = promqlMetricNames(expr);
      if (names.length === 0) unknown.push(`${where}: reads no metric: ${expr}`);
      // `up` is the one series Prometheus writes itself for every scrape target.
      for (const name of names) if (name !== 'up' && familyOf(name, families) === undefined) unknown.push(`${where}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it('when the issue names a metric operators need, then /metrics has it before any traffic (0 is a value)', () => {
    const required = [
      'ovation_actor_mailbox_depth', 'ovation_actor_messages_total', 'ovation_actor_processing_seconds', 'ovation_actors_live',
      'ovation_journal_commit_seconds', 'ovation_journal_batch_size', 'ovation_snapshot_age_seconds', 'ovation_holds_active',
      'ovation_holds_expired_total', 'ovation_queue_waiting', 'ovation_queue_active', 'ovation_queue_admitted_total',
      'ovation_outbox_pending', 'ovation_outbox_oldest_age_seconds', 'ovation_breaker_state', 'ovation_payment_seconds',
      'ovation_payment_failures_total', 'ovation_pg_pool_waiting', 'ovation_redis_errors_total', 'http_request_duration_seconds',
      // Scale-out (issue 13): registered on every instance, so one set of alerts and panels serves both modes.
      'ovation_cluster_rebalances_total', 'ovation_cluster_ownership_changes_total', 'ovation_cluster_forward_seconds',
      'ovation_cluster_owned_partitions', 'ovation_cluster_member_state',
    ];
    expect(required.filter((name) => familyOf(name, families) === undefined)).toEqual([]);
    // Figures without a per-schedule label have a sample from the first scrape on.
    const sampled = ['ovation_actors_live 0', 'ovation_holds_active 0', 'ovation_holds_expired_total 0', 'ovation_snapshot_age_seconds 0',
      'ovation_actor_mailbox_depth_max 0', 'ovation_outbox_pending 0', 'ovation_pg_pool_waiting 0', 'ovation_journal_commit_seconds_count 0',
      'ovation_redis_errors_total{source="command"} 0', 'ovation_payment_seconds_count{outcome="CONFIRMED"} 0',
      'ovation_actor_processing_seconds_count{command="Hold"} 0', 'ovation_queue_max_active 1000',
      // A single instance says so (the cluster alerts match only joining|rebalancing|serving), owns and forwards nothing.
      'ovation_cluster_member_state{state="single"} 1', 'ovation_cluster_member_state{state="serving"} 0',
      'ovation_cluster_owned_partitions 0', 'ovation_cluster_rebalances_total 0', 'ovation_cluster_ownership_changes_total{change="lost"} 0'];
    expect(sampled.filter((line) => !exposition.split('\n').includes(line))).toEqual([]);
  });

  it('when the dashboard queries Prometheus, then it names the provisioned data source', () => {
    const provisioned = parse(read('docker/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ uid: string; url: string }> };
    const uids = provisioned.datasources.map((d) => d.uid);
    expect(dashboards().map((d) => d.file)).toContain('ovation.json');
    for (const { panels } of dashboards()) {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) expect(uids).toContain(target.datasource?.uid);
      }
    }
    expect(provisioned.datasources.map((d) => new URL(d.url).hostname)).toEqual(['prometheus']);
  });

  it('when the PromQL reader meets a histogram, a label matcher, a grouping or a range, then it finds only metric names', () => {
    expect(promqlMetricNames('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!~"/metrics|x_y"}[$__rate_interval]))) > 1e3')).toEqual([
      'http_request_duration_seconds_bucket',
    ]);
    expect(promqlMetricNames('max(a_total offset 5m) / on (instance) group_left b unless c == bool 2')).toEqual(['a_total', 'b', 'c']);
    const types = new Map([['h_seconds', 'histogram'], ['g', 'gauge']]);
    expect(['h_seconds_bucket', 'h_seconds_count', 'g', 'g_count', 'nope'].map((n) => familyOf(n, types))).toEqual(['h_seconds', 'h_seconds', 'g', undefined, undefined]);
  });

  it('when the image health check probes a ready server, then it passes, and fails once the server is gone', async () => {
    const healthcheck = dockerStages(read('docker/Dockerfile')).at(-1)?.instructions.find((i) => i.keyword === 'HEALTHCHECK');
    const argv = dockerHealthcheckArgv(healthcheck!);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    expect(await runHealthcheck(argv, { PORT: String(port) })).toBe(0);
    await t.close();
    expect(await runHealthcheck(argv, { PORT: String(port) })).toBe(1);
  }, 30_000);
});
