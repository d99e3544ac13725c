import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildProgram } from '../src/main';

const ROOT = join(__dirname, '..', '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  pull_policy?: string;
  ports?: string[];
  restart?: string;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string; required?: boolean }>;
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
}

describe('docker-compose.yml', () => {
  const doc = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const services = doc.services;

  test('has every service an operator needs', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'dashboard',
        'grafana',
        'keygen',
        'migrate',
        'postgres',
        'prometheus',
        'redis',
        'rekor-local',
        'worker-drain',
        'worker-edge',
        'worker-graph',
      ].sort(),
    );
    expect(services.redis!.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
  });

  test('every app service runs a real rekor-budget command with known flags', () => {
    const program = buildProgram(
      { out: () => undefined, err: () => undefined, env: {}, cwd: ROOT },
      () => undefined,
    );
    const names = program.commands.map((c) => c.name());
    for (const [name, s] of Object.entries(services)) {
      if (s.image !== 'rekor-budget:local' || !s.command) continue;
      const [command, ...args] = s.command;
      expect({ name, known: names.includes(command!) }).toEqual({ name, known: true });
      const cmd = program.commands.find((c) => c.name() === command)!;
      const flags = cmd.options.map((o) => o.long);
      for (const a of args.filter((x) => x.startsWith('--')))
        expect({ name, flag: a, known: flags.includes(a) }).toEqual({ name, flag: a, known: true });
      expect(s.environment).toMatchObject({
        REDIS_URL: 'redis://redis:6379',
        SIGNING_KEY: '/keys/signing.pem',
      });
    }
  });

  test('the files it mounts exist', () => {
    for (const s of Object.values(services)) {
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0]!;
        if (host.startsWith('./'))
          expect({ v, exists: existsSync(join(ROOT, host)) }).toEqual({ v, exists: true });
      }
    }
  });

  const apps = Object.entries(services).filter(([, s]) => s.image === 'rekor-budget:local');
  const longRunning = apps.filter(([, s]) => s.restart !== 'no');

  test('one image, built once: only one service builds it, the others never pull it', () => {
    expect(apps.filter(([, s]) => s.build !== undefined).map(([n]) => n)).toEqual(['migrate']);
    for (const [name, s] of apps)
      if (s.build === undefined) expect({ name, pull: s.pull_policy }).toEqual({ name, pull: 'never' });
  });

  test('every long-running app service has a node healthcheck of the port it serves', () => {
    expect(longRunning.map(([n]) => n).sort()).toEqual(
      ['dashboard', 'rekor-local', 'worker-drain', 'worker-edge', 'worker-graph'].sort(),
    );
    for (const [name, s] of longRunning) {
      const test = s.healthcheck?.test ?? [];
      expect({ name, probe: test.slice(0, 3) }).toEqual({ name, probe: ['CMD', 'node', '-e'] });
      const port = /127\.0\.0\.1:(\d+)\//.exec(test[3] ?? '')?.[1];
      const flag = s.command!.includes('--metrics-port') ? '--metrics-port' : '--port';
      expect({ name, port }).toEqual({ name, port: s.command![s.command!.indexOf(flag) + 1] });
    }
  });

  test('the workers wait for a healthy rekor-local (while it is part of the project)', () => {
    for (const name of ['worker-graph', 'worker-edge', 'worker-drain'])
      expect(services[name]!.depends_on?.['rekor-local']).toEqual({
        condition: 'service_healthy',
        required: false,
      });
  });

  test('host ports leave a local Redis and Postgres alone, and listen on 127.0.0.1 only', () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(services.redis!.ports).toEqual(['127.0.0.1:16379:6379']);
    expect(services.postgres!.ports).toEqual(['127.0.0.1:15432:5432']);
    for (const p of published) expect(p).toMatch(/^127\.0\.0\.1:/);
    const hostPorts = published.map((p) => p.split(':')[1]);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  test('the Grafana login is set from the environment, with the documented default', () => {
    expect(services.grafana!.environment).toMatchObject({
      GF_SECURITY_ADMIN_USER: '${GRAFANA_USER:-admin}',
      GF_SECURITY_ADMIN_PASSWORD: '${GRAFANA_PASSWORD:-change-me}',
    });
    const header = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(header).toMatch(/Grafana +GRAFANA_USER \/ GRAFANA_PASSWORD +default admin \/ change-me/);
    expect(header).toMatch(/dashboard +DASHBOARD_USER \/ DASHBOARD_PASSWORD +default admin \/ change-me/);
    expect(header).toContain('docker compose run --rm --no-deps worker-graph key public > signing.pem.pub');
  });

  test('the Dockerfile exposes the ports the image serves: dashboard, rekor-local, metrics', () => {
    const expose = /^EXPOSE (.*)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(expose?.split(/\s+/).sort()).toEqual(['3000', '3030', '9464']);
  });

  const docker = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  (docker.status === 0 ? test : test.skip)(
    'is valid under `docker compose config` (where Docker Compose is installed)',
    () => {
      const r = spawnSync('docker', ['compose', 'config', '--quiet'], { cwd: ROOT, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );
});
