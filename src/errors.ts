/**
 * One error model for the whole tool: every error has a stable `code` (tests and reports use it,
 * never the message text) and keeps the underlying error as `cause`.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_CONFIG'
  | 'E_INPUT'
  | 'E_LOGIN'
  | 'E_API'
  | 'E_API_UNREACHABLE'
  | 'E_INVALID_VALUE'
  | 'E_INVALID_KEY'
  | 'E_ROW_SHAPE'
  | 'E_UNMATCHED'
  | 'E_AMBIGUOUS'
  | 'E_TOO_MANY_CANDIDATES'
  | 'E_BAD_SESSION_ID'
  | 'E_HTTP'
  | 'E_INTERRUPTED';

export class EtError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtError';
    this.code = code;
  }
}

export interface ConfigIssue {
  /** Dotted path inside the mapping file, e.g. `fields.csi.type`. */
  path: string;
  message: string;
  /** Line in the YAML file, where it can be told. */
  line?: number;
}

/** A mapping file that cannot be used. Carries every problem found, not just the first. */
export class ConfigError extends EtError {
  readonly issues: ConfigIssue[];
  readonly file: string;
  constructor(file: string, issues: ConfigIssue[]) {
    super('E_CONFIG', formatIssues(file, issues));
    this.name = 'ConfigError';
    this.file = file;
    this.issues = issues;
  }
}

function formatIssues(file: string, issues: ConfigIssue[]): string {
  const lines = issues.map((i) => `  - ${i.line !== undefined ? `line ${i.line}: ` : ''}${i.path ? `${i.path}: ` : ''}${i.message}`);
  return `mapping ${file} has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/** An input file that cannot be read at all (missing, unreadable, not the format its name says). */
export class InputError extends EtError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('E_INPUT', `${file}: ${message}`, options);
    this.name = 'InputError';
    this.file = file;
  }
}

/** A failure talking to the API. `status` is the HTTP status when there was an answer. */
export class ApiError extends EtError {
  readonly status: number | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options);
    this.name = 'ApiError';
    this.status = options?.status;
  }
}

/** A problem with one row's data: the row becomes `invalid`, the run goes on. */
export class RowError extends EtError {
  readonly column: string | undefined;
  constructor(code: ErrorCode, message: string, column?: string) {
    super(code, message);
    this.name = 'RowError';
    this.column = column;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
