/**
 * The error base class of every rekor-budget package. Each package defines its
 * own `code` union; callers branch on `code`, never on message text.
 */
export class RekorBudgetError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found in a configuration, with its YAML path. */
export interface ConfigIssue {
  /** Dotted YAML path, e.g. `attestor.rekor.budget.burstWindow`. */
  path: string;
  /** The offending value, as read (absent for missing keys). */
  value?: unknown;
  /** The full sentence: path, value, what is wrong and how to fix it. */
  message: string;
}

export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_UNREADABLE';

/** A configuration was refused; `issues` lists every problem found. */
export class ConfigError extends RekorBudgetError<ConfigErrorCode> {
  readonly issues: readonly ConfigIssue[];
  readonly source: string;

  constructor(
    code: ConfigErrorCode,
    source: string,
    issues: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    const lines = issues.map((i) => `  - ${i.message}`).join('\n');
    super(code, `invalid configuration (${source}):\n${lines}`, options);
    this.issues = issues;
    this.source = source;
  }
}

export type InputErrorCode = 'INVALID_TENANT' | 'INVALID_DIGEST' | 'INVALID_INPUT' | 'PAYLOAD_TOO_LARGE';

/** Input to a public entry point was refused before anything happened. */
export class InputError extends RekorBudgetError<InputErrorCode> {
  /** The input field at fault, e.g. `tenantId`. */
  readonly field: string;

  constructor(code: InputErrorCode, field: string, message: string) {
    super(code, `${field}: ${message}`);
    this.field = field;
  }
}

export type SubmissionErrorCode =
  /** Not a submission of the known version, or not of the tier it was queued for. */
  | 'SUBMISSION_MALFORMED'
  /** The input fails the producer's validation; `field` names the field. */
  | 'INPUT_INVALID'
  /** The input is valid but not in the form the producer's validation gives it. */
  | 'INPUT_NOT_NORMALIZED'
  /** The statement would be larger than `maxPayloadBytes`. */
  | 'PAYLOAD_TOO_LARGE'
  /** The content digest is not the one recomputed from the input. */
  | 'CONTENT_DIGEST_MISMATCH'
  /** A Tier 2 submission while Tier 2 is off. */
  | 'TIER_DISABLED'
  /** A Tier 2 submission whose triggers are not those its input fires. */
  | 'TRIGGERS_MISMATCH'
  /** A signed envelope carried with the submission is not this site's signature of its statement. */
  | 'ENVELOPE_MISMATCH';

/**
 * A queued submission was refused before anything was signed or sent: it is
 * not what the producer would have made of its input. Never retried.
 */
export class SubmissionError extends RekorBudgetError<SubmissionErrorCode> {
  /** The field at fault, e.g. `input.scanId` or `contentDigest`. */
  readonly field: string;

  constructor(code: SubmissionErrorCode, field: string, message: string, options?: { cause?: unknown }) {
    super(code, `${field}: ${message}`, options);
    this.field = field;
  }
}
