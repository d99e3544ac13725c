import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildProgram } from '../src/main';

const ROOT = join(__dirname, '..', '..', '..');

interface Service {
  image?: string;
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
