export { runImport, type RunResult } from './run-import.js';
export { parseErrorStatuses, parseMaxErrors, parseShard, parseWindow } from './option-values.js';
export { checkNumberOptions, resolveRunOptions, type RunOptions, type ResolvedOptions } from './options.js';
export { EXIT, exitCodeFor, type ExitCode, type Summary } from './summary.js';
