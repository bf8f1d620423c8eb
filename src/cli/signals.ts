import { EXIT } from '../run/index.js';

/**
 * First SIGINT/SIGTERM: stop reading and finish in-flight rows (bounded by --stop-timeout);
 * a second one exits at once. Returns the function that detaches the handlers.
 */
export function attachSignals(controller: AbortController, warn: (obj: object, msg: string) => void): () => void {
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // through the logger (synchronous), so that off a terminal it is a JSON line like the others
      warn({ signal: sig, exitCode: EXIT.INTERRUPTED }, `second ${sig}: exiting now`);
      process.exit(EXIT.INTERRUPTED);
    }
    warn({ signal: sig }, 'stopping: finishing rows in flight and writing the report (send again to exit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
