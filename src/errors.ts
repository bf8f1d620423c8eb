/**
 * One error model for the whole tool: every error has a stable `code` (tests and reports use it,
 * never the message text) and keeps the underlying error as `cause`. Secrets are scrubbed where
 * errors are shown (logs, reports, stderr), never by dropping causes.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_CONFIG'
  | 'E_INPUT'
  | 'E_INPUT_BOMB'
  | 'E_INPUT_CHANGED'
  | 'E_LOGIN'
  | 'E_API'
  | 'E_LISTING'
  | 'E_API_UNREACHABLE'
  | 'E_TIMEOUT'
  | 'E_REDIRECT'
  | 'E_TOO_LARGE'
  | 'E_INVALID_VALUE'
  | 'E_INVALID_KEY'
  | 'E_ROW_SHAPE'
  | 'E_CELL_TOO_LARGE'
  | 'E_UNMATCHED'
  | 'E_AMBIGUOUS'
  | 'E_TOO_MANY_CANDIDATES'
  | 'E_BAD_SESSION_ID'
  | 'E_UNSAFE_EXISTING'
  | 'E_HTTP'
  | 'E_WRITE'
  | 'E_INTERRUPTED'
  | 'E_INTERNAL'
  | 'E_LOCKED'
  | 'E_CONFLICT'
  | 'E_SHAPE_CHANGE';

export class EtError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtError';
    this.code = code;
  }
}

/** A value that can fail, as a value: `{ ok: true, value }` or `{ ok: false, error }`. */
export type Result<T, E = EtError> = { ok: true; value: T } | { ok: false; error: E };
export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

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
  constructor(file: string, message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? 'E_INPUT', `${file}: ${message}`, options);
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

/** A file of the run's own (journal, report) that could not be written: the run stops, exit 3. */
export class WriteError extends EtError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super('E_WRITE', `cannot write ${file}: ${osReason(cause)}`, { cause });
    this.name = 'WriteError';
    this.file = file;
  }
}

/** Where in the input a row problem is. */
export interface RowPlace {
  file: string;
  row: number;
  column?: string | undefined;
  sheet?: string | undefined;
}

/** One cell at fault: its column, its text, and what was expected instead. */
export interface CellProblem {
  column: string;
  value: string;
  expected: string;
}

/** A problem with one row's data: the row becomes `invalid`, the run goes on. */
export class RowError extends EtError {
  readonly file: string;
  readonly row: number;
  readonly column: string | undefined;
  /** The cells at fault, for the report's problems by column and value. */
  readonly problems: CellProblem[];
  constructor(code: ErrorCode, place: RowPlace, detail: string, problems: CellProblem[] = []) {
    super(
      code,
      `${place.file}${place.sheet ? `, sheet "${place.sheet}",` : ''} row ${place.row}${place.column !== undefined ? `, column "${place.column}"` : ''}: ${detail}`,
    );
    this.name = 'RowError';
    this.file = place.file;
    this.row = place.row;
    this.column = place.column;
    this.problems = problems;
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const OS_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EEXIST: 'already exists',
};

/** An OS error as a user reads it: "no space left on device (ENOSPC)". */
export function osReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && OS_ERRORS[code]) return `${OS_ERRORS[code]} (${code})`;
  if (code) return code;
  return errorMessage(e);
}
