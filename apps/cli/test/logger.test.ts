import { errorFields } from '@rekor-budget/core';
import type { CliIo } from '../src/io';
import { createCliLogger } from '../src/logger';

function capture(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env, cwd: process.cwd() };
  return { io, out, err };
}

describe('the CLI logger', () => {
  test('services log JSON lines with level, time, message and fields to stdout', () => {
    const c = capture();
    createCliLogger(c.io)
      .child({ component: 'worker' })
      .warn({ jobId: 'j1', ...errorFields(new Error('boom')) }, 'job failed');
    expect(c.out).toHaveLength(1);
    const line = JSON.parse(c.out[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 40,
      msg: 'job failed',
      component: 'worker',
      jobId: 'j1',
      error: { message: 'boom', name: 'Error' },
    });
    expect(typeof line.time).toBe('string');
    expect(c.err).toEqual([]);
  });

  test('one-shot commands log to stderr, so stdout stays their result', () => {
    const c = capture();
    createCliLogger(c.io, { stream: 'err' }).warn('a warning');
    expect(c.out).toEqual([]);
    expect(c.err).toHaveLength(1);
  });

  test('pretty lines are one line each, errors inline', () => {
    const c = capture();
    createCliLogger(c.io, { pretty: true }).warn(errorFields(new Error('refused')), 'Rekor is away');
    expect(c.out).toHaveLength(1);
    expect(c.out[0]!.trimEnd().split('\n')).toHaveLength(1);
    expect(c.out[0]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: Rekor is away .*refused/);
  });

  test('LOG_LEVEL sets the level; an unknown value keeps info', () => {
    const quiet = capture({ LOG_LEVEL: 'error' });
    createCliLogger(quiet.io).warn('hidden');
    expect(quiet.out).toEqual([]);
    const odd = capture({ LOG_LEVEL: 'loud' });
    const logger = createCliLogger(odd.io);
    logger.debug('hidden');
    logger.info('shown');
    expect(odd.out).toHaveLength(1);
  });
});
