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
