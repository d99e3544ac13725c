import { parseConfigObject } from '@rekor-budget/core';
import { checkoutNamespace, chooseNamespace } from '../src/namespace';

/** Where `start` and `demo` keep their state, for the sources an operator uses. */
const cwd = '/srv/checkouts/rekor-budget';
const own = checkoutNamespace(cwd);
const configFrom = (rekor: Record<string, unknown>) =>
  parseConfigObject({ attestor: { rekor } }, { source: 'attestor.yaml', env: {} });
const database = (url: string) => new URL(url).pathname.slice(1);

describe('the namespace of a local run', () => {
  test("without a configuration file: start takes the checkout's own, the demo the same with -demo/_demo", () => {
    const config = parseConfigObject({}, { source: 'defaults', env: {} });
    const start = chooseNamespace({ config, source: 'defaults', env: {}, cwd });
    expect(start.config.redis.keyPrefix).toBe(own.prefix);
    expect(database(start.config.database.url)).toBe(own.database);
    const demo = chooseNamespace({ config, source: 'defaults', env: {}, cwd, purpose: 'demo' });
    expect(demo.config.redis.keyPrefix).toBe(`${own.prefix}-demo`);
    expect(database(demo.config.database.url)).toBe(`${own.database}_demo`);
    expect(demo).toMatchObject({ ownPrefix: true, ownDatabase: true });
  });

  test('with a configuration file: start uses it as written, the demo never shares it', () => {
    const config = configFrom({
      redis: { url: 'redis://10.0.0.5:6379', keyPrefix: 'acme-prod' },
      database: { url: 'postgres://attestor@10.0.0.6:5432/attest' },
    });
    const start = chooseNamespace({ config, source: 'attestor.yaml', env: {}, cwd });
    expect(start.config.redis.keyPrefix).toBe('acme-prod');
    expect(database(start.config.database.url)).toBe('attest');
    // start's namespace is the operator's: never emptied
    expect(start).toMatchObject({ ownPrefix: false, ownDatabase: false });
    const demo = chooseNamespace({ config, source: 'attestor.yaml', env: {}, cwd, purpose: 'demo' });
    expect(demo.config.redis.keyPrefix).toBe('acme-prod-demo');
    expect(database(demo.config.database.url)).toBe('attest_demo');
    expect(new URL(demo.config.database.url).host).toBe('10.0.0.6:5432');
    expect(demo).toMatchObject({ ownPrefix: true, ownDatabase: true });
    expect(demo.line).toContain('beside acme-prod and attest, which it never touches');
  });

  test('a prefix named by --prefix or REDIS_PREFIX and a database named by DATABASE_URL: the demo takes its own beside them', () => {
    const config = parseConfigObject(
      {},
      { source: 'defaults', env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/scans' } },
    );
    const byEnv = chooseNamespace({
      config,
      source: 'defaults',
      env: { REDIS_PREFIX: 'scans' },
      cwd,
      purpose: 'demo',
    });
    expect(byEnv.config.redis.keyPrefix).toBe('scans-demo');
    expect(database(byEnv.config.database.url)).toBe('scans_demo');
    const byFlag = chooseNamespace({
      config,
      source: 'defaults',
      env: { REDIS_PREFIX: 'scans' },
      cwd,
      prefix: 'lab',
      purpose: 'demo',
    });
    expect(byFlag.config.redis.keyPrefix).toBe('lab-demo');
  });
});
