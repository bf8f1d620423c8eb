/**
 * Two or three examples for each command's --help, as a user would type them (the examples'
 * test parses every one with the real parser).
 */
export const EXAMPLES: Record<string, [command: string, what: string][]> = {
  run: [
    ['$0 run -i export.csv -m mapping.yaml --dry-run', 'everything but the writes: results.csv says what would change'],
    ['$0 run -i export.csv -m mapping.yaml', 'import; the report goes to reports/<date>/<time>'],
    ['$0 run -i /data/drop -m mapping.yaml --archive /data/archive --state-dir /data/state --resume /data/state', 'a nightly run over a drop folder'],
  ],
  validate: [
    ['$0 validate -i export.csv -m mapping.yaml', 'every check before the network, over every row, offline'],
    ['$0 validate -i export.xlsx -m mapping.yaml --report-dir reports/check', 'the same, with the report kept where you say'],
  ],
  'inspect <file>': [
    ['$0 inspect export.csv --write-mapping mapping.yaml', 'a starter mapping for the keys your sessions hold'],
    ['$0 inspect export.xlsx --offline', "without the API: the help article's keys"],
  ],
  'undo <runs..>': [
    ['$0 undo reports/2025-06-30/0100', 'bring back what the sessions held before that run'],
    ['$0 undo reports/2025-06-30/0100 --dry-run', 'what the undo would restore, and what changed since (kept)'],
  ],
  'apply <plan>': [
    ['$0 apply reports/plan', 'write exactly what the dry run in reports/plan showed (a session changed since is a conflict, not written)'],
    ['$0 apply reports/plan --max-plan-age 72', 'a plan up to three days old'],
  ],
  'history [root..]': [
    ['$0 history reports', 'every run under reports/: when, what, how it ended, and its undo'],
    ['$0 history reports --json', 'the same as JSON lines'],
  ],
  'find [key]': [
    ['$0 find CALL-1001', 'the sessions a call ID finds, and which fields hold it exactly'],
    [
      '$0 find --time "2025-06-03 10:15:00" --timezone Europe/Berlin --agent jdoe --phone "0171 2345678" --region DE',
      'the sessions near a conversation, each in or out and why',
    ],
  ],
  check: [
    ['$0 check', 'the login works; what the sessions hold (fields and metadata keys)'],
    ['$0 check --url https://company.enderturing.com', 'another instance than ET_URL'],
  ],
  sandbox: [
    ['$0 sandbox --port 4010', 'a local stand-in of the API with its demo sessions'],
    ['$0 sandbox --sessions fixtures/sessions.json --rate-limit 200 --latency 50', 'a slow, rate-limited one'],
  ],
};
