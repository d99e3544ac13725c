import { z } from 'zod';
import { isTenantId, TIER_MODES } from '../domain';
import { formatDuration, parseDuration } from '../duration';
import { DAY_MS, HOUR_MS, SECOND_MS } from '../time';
import { checkRedisTopology, redisNodes, redisTopology } from './redis-topology';

/**
 * The one schema of `attestor.rekor`. Keys are exactly the spec's Full
 * Configuration Schema (plus `edgeBundles.dailyLimit` from Tier 2) and the
 * documented extension keys; every object is strict, so a typo is an error,
 * never a silent default. Messages are written to follow `<path>: <value> `.
 * The schema ends in the shape packages receive (`RekorConfig`), so that
 * shape is declared once, here.
 */

/** The Tier 1 cap per burst window: `floor(burstLimit x burstWindow / 1h)`. */
function burstWindowLimit(burstLimit: number, burstWindowMs: number): number {
  return Math.floor((burstLimit * burstWindowMs) / HOUR_MS);
}

function posInt(example: number) {
  const message = `is not a positive whole number; use e.g. ${example}`;
  return z.number({ message }).int({ message }).positive({ message });
}

function port(example: number) {
  const message = `is not a TCP port; use a whole number from 0 to 65535, e.g. ${example}`;
  return z.number({ message }).int({ message }).min(0, { message }).max(65535, { message });
}

function bool(example: boolean) {
  return z.boolean({ message: `is not a boolean; use true or false, e.g. ${example}` });
}

/**
 * The longest duration any key accepts: 24 days, under the longest delay a
 * Node.js timer can run (2^31 - 1 ms, about 24.8 days; a longer one fires
 * after 1 ms).
 */
export const MAX_DURATION_MS = 24 * DAY_MS;

/** The shortest duration of a key that runs a timer (a probe loop, a request timeout). */
export const MIN_TIMER_MS = SECOND_MS;

/**
 * A duration key. `timer`: the value runs a timer, so it must be at least
 * `MIN_TIMER_MS` (a shorter one spins or fails every request at once). Every
 * duration is at most `MAX_DURATION_MS`.
 */
function duration(example: string, options: { timer?: boolean } = {}) {
  const message = `is not a duration; use hh:mm:ss, e.g. "${example}"`;
  return z.string({ message }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
      return z.NEVER;
    }
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `is longer than 24 days, the longest delay a timer can run; use at most "24.00:00:00", e.g. "${example}"`,
      });
      return z.NEVER;
    }
    if (options.timer && ms < MIN_TIMER_MS) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `is shorter than 1 second; this key runs a timer, which would spin or expire at once; use at least "00:00:01", e.g. "${example}"`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

function httpUrl(example: string) {
  const message = `is not an http(s) URL; use e.g. "${example}"`;
  return z.string({ message }).refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
      } catch {
        return false;
      }
    },
    { message },
  );
}

function urlWithScheme(schemes: string[], example: string) {
  const message = `is not a ${schemes.join(' or ')} URL; use e.g. "${example}"`;
  return z.string({ message }).refine(
    (s) => {
      try {
        return schemes.includes(new URL(s).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message },
  );
}

/** A path to a local file, or an http(s) URL. */
function fileOrUrl(example: string) {
  const message = `is not a file path or an http(s) URL; use e.g. "${example}"`;
  return z
    .string({ message })
    .min(1, { message })
    .refine((s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^https?:\/\/[^/]+/i.test(s), { message });
}

function nonEmpty(example: string) {
  const message = `is not a non-empty string; use e.g. "${example}"`;
  return z.string({ message }).min(1, { message });
}

/**
 * A mapping section. A section whose keys are all commented out reads as
 * `null` in YAML and means "all defaults".
 */
function section<T extends z.ZodRawShape>(shape: T) {
  const message = 'is not a mapping; write the keys of this section indented below it';
  return z.preprocess(
    (v) => (v === null ? undefined : v),
    z
      .object(shape, { message })
      .strict()
      .default({} as never),
  );
}

const cvssThreshold = z
  .number({ message: 'is not a CVSS score; use a number from 0.0 to 10.0, e.g. 9.0' })
  .min(0, { message: 'is not a CVSS score; use a number from 0.0 to 10.0, e.g. 9.0' })
  .max(10, { message: 'is not a CVSS score; use a number from 0.0 to 10.0, e.g. 9.0' });

const triggerItem = z
  .object({
    /** A finding at or above this CVSS score, and reachable, escalates. */
    cvssThreshold: cvssThreshold.optional(),
    /** A failed policy gate that carries this flag escalates. */
    policyGate: z
      .literal('require_proof', {
        errorMap: () => ({ message: 'is not a known policy gate; use "require_proof"' }),
      })
      .optional(),
    /** A security team's explicit request escalates. */
    manualEscalation: bool(true).optional(),
  })
  .strict()
  .superRefine((item, ctx) => {
    const keys = Object.keys(item);
    if (keys.length !== 1) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message:
          'must hold exactly one trigger; write each as its own list item, e.g. "- cvssThreshold: 9.0"',
      });
    }
  });

type TriggerItem = z.output<typeof triggerItem>;

/** One configured Tier 2 trigger set (each key present only if configured). */
export type EdgeTriggerConfig = Omit<TriggerItem, 'manualEscalation'> &
  Required<Pick<TriggerItem, 'manualEscalation'>>;

/** The trigger list merged into one set; a trigger left out is off. */
function mergeTriggers(items: readonly TriggerItem[]): EdgeTriggerConfig {
  return Object.assign({ manualEscalation: false }, ...items) as EdgeTriggerConfig;
}

export const rekorSchema = z
  .object(
    {
      // --- the spec's keys ---
      enabled: bool(true).default(true),
      serverUrl: httpUrl('https://rekor.sigstore.dev').default('https://rekor.sigstore.dev'),
      tier: z
        .enum(TIER_MODES, {
          errorMap: () => ({ message: 'is not a tier; use "graph-only" or "with-edges"' }),
        })
        .default('graph-only'),
      budget: section({
        hourlyLimit: posInt(100).default(100),
        burstLimit: posInt(200).default(200),
        burstWindow: duration('00:10:00').default('00:10:00'),
        edgeBundleDailyLimit: posInt(50).optional(),
      }),
      retry: section({
        maxAttempts: posInt(3).default(3),
        initialDelay: duration('00:00:05').default('00:00:05'),
        maxDelay: duration('00:05:00').default('00:05:00'),
        backoffMultiplier: z
          .number({ message: 'is not a number; use a number of at least 1, e.g. 2.0' })
          .default(2.0),
      }),
      offline: section({
        queueEnabled: bool(true).default(true),
        maxQueueSize: posInt(10000).default(10000),
        drainOnConnect: bool(true).default(true),
        // extension: sign and store only, never contact Rekor
        airGapped: bool(false).default(false),
        // extension: how often the drain worker probes Rekor
        probeInterval: duration('00:00:15', { timer: true }).default('00:00:15'),
      }),
      edgeBundles: section({
        enabled: bool(true).default(true),
        dailyLimit: posInt(50).optional(),
        triggers: z
          .array(triggerItem, {
            message: 'is not a list of triggers; use e.g. "- cvssThreshold: 9.0"',
          })
          .default([{ cvssThreshold: 9.0 }, { policyGate: 'require_proof' }, { manualEscalation: true }]),
      }),

      // --- extension keys (documented in attestor.example.yaml) ---
      apiVersion: z
        .union([z.literal(1), z.literal(2)], {
          errorMap: () => ({ message: 'is not a Rekor API version; use 1 or 2' }),
        })
        .default(1),
      entryKind: z
        .enum(['dsse', 'intoto'], {
          errorMap: () => ({ message: 'is not a Rekor v1 entry kind; use "dsse" or "intoto"' }),
        })
        .default('dsse'),
      requestTimeout: duration('00:00:30', { timer: true }).default('00:00:30'),
      // Rekor v2 writes block until a checkpoint includes the entry (rekor-tiles CLIENTS.md: >= 20 s)
      v2WriteTimeout: duration('00:00:30', { timer: true }).default('00:00:30'),
      // a sigstore TrustedRoot (file or URL): checks v2 checkpoints; needed by rekor-budget verify too
      trustedRoot: fileOrUrl('/etc/rekor-budget/trusted_root.json').optional(),
      // a SigningConfig v0.2 (file or URL): the Rekor shards and TSAs to use, instead of serverUrl
      signingConfig: fileOrUrl('https://example.org/signing_config.json').optional(),
      timestampAuthority: section({
        url: httpUrl('https://timestamp.sigstore.dev/api/v1/timestamp').optional(),
      }),
      maxPayloadBytes: posInt(102400).default(102400),
      pace: section({
        max: z
          .number({ message: 'is not a whole number; use 0 (no global pace) or e.g. 50' })
          .int({ message: 'is not a whole number; use 0 (no global pace) or e.g. 50' })
          .min(0, { message: 'is negative; use 0 (no global pace) or e.g. 50' })
          .default(0),
        window: duration('00:00:01').default('00:00:01'),
      }),
      redis: section({
        // exactly one of url, cluster, sentinel (url is the default when none is set)
        url: urlWithScheme(['redis', 'rediss'], 'redis://127.0.0.1:6379').optional(),
        cluster: section({
          nodes: redisNodes('cluster', '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002'),
        }).optional(),
        sentinel: section({
          name: nonEmpty('mymaster'),
          nodes: redisNodes('sentinel', '127.0.0.1:26379,127.0.0.1:26380'),
          // the sentinels' own credentials (ioredis sentinelUsername / sentinelPassword)
          username: nonEmpty('sentinel').optional(),
          password: nonEmpty('change-me').optional(),
        }).optional(),
        // credentials of the data nodes of a cluster or Sentinel deployment (with url: in the URL)
        username: nonEmpty('rekor-budget').optional(),
        password: nonEmpty('change-me').optional(),
        keyPrefix: z
          .string({ message: 'is not a key prefix; use letters, digits and - _ . :, e.g. "rekor-budget"' })
          .regex(/^[A-Za-z0-9_.:-]{1,64}$/, {
            message:
              'is not a key prefix; use 1-64 letters, digits and - _ . : (no braces), e.g. "rekor-budget"',
          })
          .default('rekor-budget'),
        // extension: workers refuse a Redis that can lose queued jobs (no AOF, or eviction)
        requireDurable: bool(true).default(true),
      }),
      database: section({
        url: urlWithScheme(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/postgres').default(
          'postgres://postgres@127.0.0.1:5432/postgres',
        ),
      }),
      signing: section({
        keyPath: nonEmpty('/etc/rekor-budget/signing-key.pem').optional(),
        keyHint: nonEmpty('scanner-2025').optional(),
      }),
      metrics: section({
        port: port(9464).default(9464),
        host: nonEmpty('127.0.0.1').default('127.0.0.1'),
        user: nonEmpty('prometheus').optional(),
        password: nonEmpty('change-me').optional(),
        token: z
          .string({ message: 'is not a token; use a random string of at least 16 characters' })
          .min(16, {
            message: 'is too short for a bearer token; use a random string of at least 16 characters',
          })
          .optional(),
      }),
      // extension: display names of tenants (dashboard, status), tenant UUID -> name
      tenants: z.preprocess(
        (v) => (v === null ? undefined : v),
        z
          .record(
            z.string().refine((k) => isTenantId(k), {
              message: "is not a tenant UUID; key each name by the tenant's UUID",
            }),
            z
              .string({ message: 'is not a display name; use a short name, e.g. "acme"' })
              .min(1, { message: 'is not a display name; use a short name, e.g. "acme"' })
              .max(100, { message: 'is longer than 100 characters; use a short name, e.g. "acme"' }),
            {
              message:
                'is not a mapping of tenant UUID to name, e.g. 6f1d3c2a-0b4e-4f5a-9c8d-7e6f5a4b3c2d: acme',
            },
          )
          .default({}),
      ),
      dashboard: section({
        port: port(3000).default(3000),
        user: nonEmpty('admin').optional(),
        password: nonEmpty('change-me').optional(),
        readOnly: bool(false).default(false),
      }),
    },
    { message: 'is not a mapping; write the keys of attestor.rekor indented below it' },
  )
  .strict()
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });

    const b = c.budget;
    if (b.burstLimit < b.hourlyLimit) {
      issue(
        ['budget', 'burstLimit'],
        `is below hourlyLimit (${b.hourlyLimit}); the burst allowance is a faster pace than the hourly one, so set burstLimit >= hourlyLimit, e.g. ${2 * b.hourlyLimit}`,
      );
    }
    if (b.burstWindow <= 0) {
      issue(['budget', 'burstWindow'], 'is empty; use a window longer than zero, e.g. "00:10:00"');
    } else if (b.burstWindow > HOUR_MS) {
      issue(
        ['budget', 'burstWindow'],
        'is longer than one hour; the burst window must lie within the hour, e.g. "00:10:00"',
      );
    } else if (burstWindowLimit(b.burstLimit, b.burstWindow) < 1) {
      issue(
        ['budget', 'burstWindow'],
        `lets floor(burstLimit ${b.burstLimit} x ${formatDuration(b.burstWindow)} / 1h) = 0 submissions through per window; lengthen burstWindow or raise burstLimit so at least one fits`,
      );
    }

    if (c.v2WriteTimeout < 20 * SECOND_MS) {
      issue(
        ['v2WriteTimeout'],
        'is shorter than 20 seconds; a Rekor v2 write waits until a checkpoint includes the entry, and rekor-tiles asks clients to allow at least "00:00:20"',
      );
    }

    if (c.pace.window <= 0) {
      issue(['pace', 'window'], 'is empty; use a window longer than zero, e.g. "00:00:01"');
    }

    const r = c.retry;
    if (r.initialDelay > r.maxDelay) {
      issue(
        ['retry', 'initialDelay'],
        `is longer than maxDelay (${formatDuration(r.maxDelay)}); set initialDelay <= maxDelay`,
      );
    }
    if (r.backoffMultiplier < 1 || !Number.isFinite(r.backoffMultiplier)) {
      issue(
        ['retry', 'backoffMultiplier'],
        'is below 1, so delays would shrink; use a number of at least 1, e.g. 2.0',
      );
    }

    const a = b.edgeBundleDailyLimit;
    const d = c.edgeBundles.dailyLimit;
    if (a !== undefined && d !== undefined && a !== d) {
      issue(
        ['edgeBundles', 'dailyLimit'],
        `differs from budget.edgeBundleDailyLimit (${a}); both name the same Tier 2 limit, so set only one of them or make them equal`,
      );
    }

    const seen = new Set<string>();
    c.edgeBundles.triggers.forEach((t, i) => {
      for (const key of Object.keys(t)) {
        if (seen.has(key)) {
          issue(
            ['edgeBundles', 'triggers', i, key],
            'repeats a trigger listed earlier; list each trigger once',
          );
        }
        seen.add(key);
      }
    });

    checkRedisTopology(c.redis, issue);

    // one tenant keyed twice (its UUID in upper and in lower case): which name wins is a guess
    const named = new Map<string, string>();
    for (const id of Object.keys(c.tenants)) {
      const first = named.get(id.toLowerCase());
      if (first !== undefined) {
        issue(['tenants', id], `is the tenant ${first} again (UUIDs ignore case); give each tenant one name`);
      }
      named.set(id.toLowerCase(), id);
    }

    for (const section of ['dashboard', 'metrics'] as const) {
      const hasUser = c[section].user !== undefined;
      const hasPassword = c[section].password !== undefined;
      if (hasUser !== hasPassword) {
        issue(
          [section, hasUser ? 'password' : 'user'],
          `is missing while the other ${section} credential is set; set both user and password, or neither`,
        );
      }
    }
  })
  .transform((r) => {
    const daily = r.budget.edgeBundleDailyLimit ?? r.edgeBundles.dailyLimit ?? 50;
    return {
      enabled: r.enabled,
      serverUrl: r.serverUrl.replace(/\/+$/, ''),
      /** Rekor API: 1 (`/api/v1/log/entries`) or 2 (`/api/v2/log/entries`). @defaultValue 1 */
      apiVersion: r.apiVersion,
      /** Rekor v1 entry kind for DSSE envelopes. @defaultValue 'dsse' */
      entryKind: r.entryKind,
      tier: r.tier,
      /** Timeout of one HTTP request to Rekor. @defaultValue 30 000 */
      requestTimeoutMs: r.requestTimeout,
      /** Timeout of a Rekor v2 write (at least 20 000). @defaultValue 30 000 */
      v2WriteTimeoutMs: r.v2WriteTimeout,
      /** A sigstore TrustedRoot, file or URL: v2 checkpoints are checked against it. */
      trustedRoot: r.trustedRoot,
      /** A SigningConfig v0.2, file or URL: Rekor shards and TSAs are chosen from it; `serverUrl` is then unused. */
      signingConfig: r.signingConfig,
      /** The RFC 3161 TSA endpoint whose timestamp every bundle carries. */
      timestampAuthority: { url: r.timestampAuthority.url },
      /** Largest statement payload accepted by the producer, per submission. @defaultValue 102 400 */
      maxPayloadBytes: r.maxPayloadBytes,
      /**
       * Global pace toward Rekor across all tenants and workers of a tier (BullMQ
       * limiter): at most `max` requests per `windowMs`; `max: 0` means none.
       */
      pace: { max: r.pace.max, windowMs: r.pace.window },
      budget: {
        hourlyLimit: r.budget.hourlyLimit,
        burstLimit: r.budget.burstLimit,
        burstWindowMs: r.budget.burstWindow,
        /** Derived: `floor(burstLimit x burstWindow / 1h)`, the cap per burst window. */
        burstWindowLimit: burstWindowLimit(r.budget.burstLimit, r.budget.burstWindow),
        /** Tier 2 cap per rolling 24 h (`budget.edgeBundleDailyLimit` or `edgeBundles.dailyLimit`). */
        edgeBundleDailyLimit: daily,
      },
      retry: {
        maxAttempts: r.retry.maxAttempts,
        initialDelayMs: r.retry.initialDelay,
        maxDelayMs: r.retry.maxDelay,
        backoffMultiplier: r.retry.backoffMultiplier,
      },
      offline: {
        queueEnabled: r.offline.queueEnabled,
        maxQueueSize: r.offline.maxQueueSize,
        drainOnConnect: r.offline.drainOnConnect,
        /** Sign and store only; never contact Rekor. @defaultValue false */
        airGapped: r.offline.airGapped,
        /** How often the drain worker probes Rekor. @defaultValue 15 000 */
        probeIntervalMs: r.offline.probeInterval,
      },
      edgeBundles: {
        enabled: r.edgeBundles.enabled,
        dailyLimit: daily,
        triggers: mergeTriggers(r.edgeBundles.triggers),
      },
      redis: {
        ...redisTopology(r.redis),
        keyPrefix: r.redis.keyPrefix,
        /**
         * Workers start only on a Redis that keeps what it acknowledged: AOF on
         * (`appendonly yes`) and `maxmemory-policy noeviction`; in a cluster, on
         * every master. @defaultValue true
         */
        requireDurable: r.redis.requireDurable,
      },
      database: { ...r.database },
      signing: { ...r.signing },
      metrics: { ...r.metrics },
      dashboard: { ...r.dashboard },
      /** Display names of tenants by UUID (lower case). @defaultValue {} */
      tenants: Object.fromEntries(
        Object.entries(r.tenants).map(([id, name]) => [id.toLowerCase(), name]),
      ) as Record<string, string>,
    };
  });

/**
 * `attestor.rekor`, validated, with defaults applied and durations in
 * milliseconds. Packages receive this object; only the edge of an app loads it.
 */
export type RekorConfig = z.output<typeof rekorSchema>;

const rekorSection = z.preprocess((v) => (v === null ? undefined : v), rekorSchema.default({}));

export const fileSchema = z
  .object(
    { attestor: section({ rekor: rekorSection }) },
    { message: 'is not a mapping; the file holds attestor.rekor.<keys>, see attestor.example.yaml' },
  )
  .strict();
