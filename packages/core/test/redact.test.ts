import {
  ConfigError,
  echo,
  InputError,
  MAX_DURATION_MS,
  parseConfigText,
  redactText,
  redactUrl,
  validateGraphInput,
} from '@rekor-budget/core';

const rekor = (body: string) => `attestor:\n  rekor:\n${body.replace(/^/gm, '    ')}\n`;

function configError(yaml: string): ConfigError {
  try {
    parseConfigText(yaml, { source: 'test.yaml' });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('configuration was accepted');
}

describe('redaction', () => {
  test.each([
    ['postgres://app:pw@db:5432/x', 'postgres://***@db:5432/x'],
    ['redis://:pw@redis:6379', 'redis://***@redis:6379'],
    ['https://ci:p@ss@rekor.internal/api', 'https://***@rekor.internal/api'],
    ['postgres://db/x?sslmode=require&password=pw', 'postgres://db/x?sslmode=require&password=***'],
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3000'],
    ['not a url', 'not a url'],
  ])('redactUrl(%j) is %j', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  test('redactText finds URLs inside text, in linear time on hostile input', () => {
    expect(redactText('Postgres at postgres://u:pw@h/db, then redis://:pw@r')).toBe(
      'Postgres at postgres://***@h/db, then redis://***@r',
    );
    const started = Date.now();
    for (const text of ['x'.repeat(1_000_000), 'a://'.repeat(250_000), `http://${'u'.repeat(1_000_000)}`])
      redactText(text);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('echo: secret keys as ***, URLs redacted, at most 200 characters and a note of the rest', () => {
    expect(echo({ user: 'ops', password: 'pw', nested: { apiToken: 't', url: 'redis://:pw@r' } })).toBe(
      '{"user":"ops","password":"***","nested":{"apiToken":"***","url":"redis://***@r"}}',
    );
    const long = echo('x'.repeat(10_000_000));
    expect(long.length).toBeLessThan(260);
    expect(long).toMatch(/\.\.\. \(\d+ more characters\)$/);
  });
});

describe('configuration bounds and errors (findings 6, 8, 9)', () => {
  test.each([
    ['offline:\n  probeInterval: "00:00:00"', 'attestor.rekor.offline.probeInterval'],
    ['offline:\n  probeInterval: "30.00:00:00"', 'attestor.rekor.offline.probeInterval'],
    ['requestTimeout: "00:00:00.999"', 'attestor.rekor.requestTimeout'],
    ['requestTimeout: "24.00:00:01"', 'attestor.rekor.requestTimeout'],
    ['budget:\n  burstWindow: "25.00:00:00"', 'attestor.rekor.budget.burstWindow'],
  ])('%j is refused at %s', (body, path) => {
    const e = configError(rekor(body));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.issues.map((i) => i.path)).toEqual([path]);
  });

  test('24 days is the longest duration; 1 s the shortest timer', () => {
    const c = parseConfigText(rekor('offline:\n  probeInterval: "00:00:01"\nrequestTimeout: "24.00:00:00"'), {
      source: 'test.yaml',
    });
    expect(c.offline.probeIntervalMs).toBe(1_000);
    expect(c.requestTimeoutMs).toBe(MAX_DURATION_MS);
    expect(MAX_DURATION_MS).toBeLessThan(2 ** 31 - 1);
  });

  test('a secret is never in an issue: misspelled keys, secret keys, URLs', () => {
    const e = configError(
      rekor(
        'dashboard:\n  user: ops\n  passwrd: hunter2\nmetrics:\n  token: tiny-tok\nredis:\n  url: "http://u:hunter2@r"',
      ),
    );
    expect(e.message).not.toContain('hunter2');
    expect(e.message).not.toContain('tiny-tok');
    expect(JSON.stringify(e.issues)).not.toContain('hunter2');
    expect(e.issues.find((i) => i.path === 'attestor.rekor.dashboard.passwrd')?.value).toBe('***');
  });

  test('an alias bomb is CONFIG_UNREADABLE, not a crash', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const p = String.fromCharCode(96 + i);
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${p}`).join(', ')}]`,
      );
    }
    expect(configError(levels.join('\n')).code).toBe('CONFIG_UNREADABLE');
  });

  test('a 10 MB input value gives a short error', () => {
    const input = {
      tenantId: '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b',
      scanId: 'x'.repeat(10_000_000),
      subject: { name: 'app', digest: `sha256:${'a'.repeat(64)}` },
      graphDigest: `sha256:${'b'.repeat(64)}`,
      scanner: { name: 's', version: '1' },
      scanFinishedAt: '2025-12-20T10:00:00Z',
    };
    let error: unknown;
    try {
      validateGraphInput(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('INVALID_INPUT');
    expect((error as InputError).message.length).toBeLessThan(500);
  });
});
