import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { byRow, importInto, readCsv } from '../helpers/run.js';
import { configFile, fixture, metadataById, putCount, startSandbox, tempDir } from '../helpers/sandbox.js';

const CALL_1001 = '5ef1ce61-f10a-4c18-badb-5b0f71a75c98';
const CALL_10011 = '0b7f3c1e-2a44-4c4e-9a51-1f0e6d3b2c10';
const CALL_1002 = '9a3d2b8e-6c1f-4f5a-8e2d-3b4c5d6e7f80';
const CALL_1003 = '3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6071';
const NUMERIC_ID = '7c8d9e0f-1a2b-4c3d-8e4f-5061728394a5';
const CALL_2001 = '6b7c8d9e-0f1a-4b2c-9d3e-4f5061728394';
const CALL_2002 = '8d9e0f1a-2b3c-4d4e-9f5a-6172839405b6';
const TICKET_55_EMAIL = '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60';

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await startSandbox();
});
afterEach(async () => {
  await sandbox.close();
});

describe('run against the sandbox', () => {
  it('imports the CSV fixture: every row gets its status, metadata lands on the right sessions', async () => {
    const before = metadataById(sandbox);
    const r = await importInto(sandbox.url, { inputs: [fixture('crm-export.csv')], mapping: configFile('mapping.example.yaml') });
    const rows = byRow(r.results);
    expect(r.results).toHaveLength(10);
    expect(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.status]))).toEqual({
      'crm-export.csv:2': 'updated',
      'crm-export.csv:3': 'unchanged',
      'crm-export.csv:4': 'ambiguous',
      'crm-export.csv:5': 'unmatched',
      'crm-export.csv:6': 'unmatched',
      'crm-export.csv:7': 'invalid',
      'crm-export.csv:8': 'invalid',
      'crm-export.csv:9': 'invalid',
      'crm-export.csv:10': 'failed',
      'crm-export.csv:11': 'updated',
    });
    expect(r.exitCode).toBe(1);
    expect(r.counts).toEqual({
      updated: 2,
      unchanged: 1,
      would_update: 0,
      skipped: 0,
      valid: 0,
      unmatched: 2,
      ambiguous: 1,
      invalid: 3,
      failed: 1,
      kept: 0,
      conflict: 0,
      total: 10,
    });

    // CALL-1001 is a prefix of CALL-10011: each key reaches only its own session
    expect(rows['crm-export.csv:2']!.session_id).toBe(CALL_1001);
    expect(rows['crm-export.csv:11']!.session_id).toBe(CALL_10011);
    const after = metadataById(sandbox);
    expect(after[CALL_1001]).toEqual({
      crm_statuses: ['Opened', 'CSI resolved', 'Callback done'],
      csi: 5,
      nps: 10,
      fcr: 1,
      customer_id: '176196',
      campaign_name: 'Spring Promo',
    });
    expect(after[CALL_10011]).toEqual({ csi: 2, nps: 6, fcr: 0, customer_id: 'C-87', crm_statuses: ['Opened'], campaign_name: 'Summer' });
    // nothing else was touched
    for (const id of Object.keys(before)) if (id !== CALL_1001 && id !== CALL_10011) expect(after[id]).toEqual(before[id]);
    expect(putCount(sandbox)).toBe(3); // two updates and the refused write to the locked session

    expect(rows['crm-export.csv:5']!.error_message).toMatch(/no session has external_id equal to "CALL-100"/);
    expect(rows['crm-export.csv:4']!.error_code).toBe('E_AMBIGUOUS');
    expect(rows['crm-export.csv:7']!.error_message).toBe(
      'crm-export.csv row 7, column "CSAT": expected a whole number from 1 to 5, got "7"'.replace('crm-export.csv', fixture('crm-export.csv')),
    );
    expect(rows['crm-export.csv:9']!.error_message).toContain('row 9, column "NPS"');
    expect(rows['crm-export.csv:10']!.error_message).toMatch(/HTTP 403/);
    expect(rows['crm-export.csv:3']!.session_id).toBe(CALL_1002);
  });

  it('imports the XLSX fixture: numeric IDs, formulas, rich text and hyperlinks as their values', async () => {
    const r = await importInto(sandbox.url, { inputs: [fixture('crm-export.xlsx')], mapping: configFile('mapping.example.yaml') });
    const rows = byRow(r.results);
    expect(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.status]))).toEqual({
      'crm-export.xlsx:2': 'updated',
      'crm-export.xlsx:3': 'updated',
      'crm-export.xlsx:4': 'updated',
      'crm-export.xlsx:5': 'invalid',
      'crm-export.xlsx:7': 'unmatched',
    });
    expect(rows['crm-export.xlsx:3']!.key).toBe('37250987916');
    const after = metadataById(sandbox);
    expect(after[NUMERIC_ID]).toEqual({ csi: 4, nps: 8, fcr: 0, customer_id: 'C-201', crm_statuses: ['Closed'], campaign_name: 'Summer' });
    expect(after[CALL_2001]).toEqual({
      crm_statuses: ['Opened', 'Callback done', 'Closed'],
      csi: 5,
      nps: 9,
      fcr: 1,
      customer_id: 'C-200',
      campaign_name: 'Summer',
    });
    expect(after[CALL_2002]).toEqual({ csi: 2, customer_id: 'C-90', campaign_name: 'Summer', nps: 7, fcr: 0 });
    expect(rows['crm-export.xlsx:4']!.changed_fields).toBe('nps;fcr');
    expect(rows['crm-export.xlsx:5']!.error_message).toContain('row 5, column "FCR": expected one of "Yes", "No", got "Maybe"');
  });

  it('matches by audio file name: directories and extensions ignored, prefixes not matched', async () => {
    const r = await importInto(sandbox.url, { inputs: [fixture('recordings.csv')], mapping: configFile('mapping.audio-filename.yaml') });
    const rows = byRow(r.results);
    expect(rows['recordings.csv:2']).toMatchObject({ status: 'updated', session_id: CALL_1001 });
    expect(rows['recordings.csv:3']).toMatchObject({ status: 'updated', session_id: CALL_1003 });
    expect(rows['recordings.csv:4']!.status).toBe('unmatched');
    expect(rows['recordings.csv:5']!.status).toBe('unmatched');
    // the search went out without directory or extension
    const queries = sandbox
      .requests()
      .filter((q) => q.method === 'GET')
      .map((q) => q.query.filters);
    expect(queries).toContain('search_query,20250629_1348_cdarwin_37250987916_IN_1');
    expect(metadataById(sandbox)[CALL_1003]).toEqual({ csi: 5, crm_statuses: ['Reviewed'] });
  });

  it('append is idempotent: a second run of the same file sends zero PUTs', async () => {
    const inputs = [fixture('crm-export.csv'), fixture('crm-export.xlsx')];
    const first = await importInto(sandbox.url, { inputs, mapping: configFile('mapping.example.yaml') });
    expect(first.counts.updated).toBe(5);
    const state = metadataById(sandbox);
    sandbox.resetStats();
    const second = await importInto(sandbox.url, { inputs, mapping: configFile('mapping.example.yaml') });
    // only the locked session is written again (and refused); every updated row is now unchanged
    expect(second.counts).toMatchObject({ updated: 0, unchanged: 6, failed: 1 });
    expect(putCount(sandbox) - (sandbox.stats.requests['PUT /api/v1/sessions/{id}/metadata 403'] ?? 0)).toBe(0);
    expect(metadataById(sandbox)).toEqual(state);
  });

  it('dry run sends zero PUTs and reports would_update', async () => {
    const before = metadataById(sandbox);
    const r = await importInto(sandbox.url, { inputs: [fixture('crm-export.csv')], mapping: configFile('mapping.example.yaml'), dryRun: true });
    expect(putCount(sandbox)).toBe(0);
    expect(r.counts).toMatchObject({ would_update: 3, updated: 0, unchanged: 1 });
    expect(metadataById(sandbox)).toEqual(before);
    expect(r.exitCode).toBe(1);
    expect(r.captured.out.join('')).toContain('dry run: nothing was written');
  });

  it('onMultiple: newest picks the latest conversation', async () => {
    const dir = tempDir();
    const mapping = join(dir, 'm.yaml');
    writeFileSync(mapping, 'match: { column: Call ID, onMultiple: newest }\nfields: { customer_id: Customer ID }\n');
    const input = join(dir, 'in.csv');
    writeFileSync(input, 'Call ID,Customer ID\nTICKET-55,C-55\n');
    const r = await importInto(sandbox.url, { inputs: [input], mapping });
    expect(r.results[0]).toMatchObject({ status: 'updated', session_id: TICKET_55_EMAIL });
  });

  it('writes the report: results.csv, failed.csv in the input columns, summary.json', async () => {
    const reportDir = tempDir('et-report-');
    const r = await importInto(sandbox.url, { inputs: [fixture('crm-export.csv')], mapping: configFile('mapping.example.yaml'), reportDir });
    const failed = readCsv(join(reportDir, 'failed.csv'));
    expect(failed.map((f) => f['Call ID'])).toEqual(expect.arrayContaining(['TICKET-55', 'CALL-100', 'CALL-9999', 'CALL-1003', '', 'CALL-1004', 'CALL-1005']));
    expect(failed).toHaveLength(7);
    const header = readFileSync(join(reportDir, 'failed.csv'), 'utf8').split('\r\n')[0];
    expect(header).toBe('Call ID,CSAT,NPS,FCR,Customer ID,CRM Status,Campaign,et_import_error');
    expect(failed.find((f) => f['Call ID'] === 'CALL-1003')).toMatchObject({ CSAT: '7', NPS: '5', Campaign: 'Spring' });
    const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8'));
    expect(summary.counts).toEqual(r.counts);
    expect(summary.counts.total).toBe(10);
    expect(summary.inputs).toEqual([expect.objectContaining({ file: fixture('crm-export.csv'), rowsRead: 10, format: 'csv', delimiter: ',' })]);
    expect(summary.options).toMatchObject({ concurrency: 8, dryRun: false, url: sandbox.url, apiVersion: 'v1' });
    expect(Date.parse(summary.finishedAt)).toBeGreaterThanOrEqual(Date.parse(summary.startedAt));
    expect(summary.durationMs).toBe(Date.parse(summary.finishedAt) - Date.parse(summary.startedAt));
    // failed.csv can be fed back in as it is
    const again = await importInto(sandbox.url, { inputs: [join(reportDir, 'failed.csv')], mapping: configFile('mapping.example.yaml') });
    expect(again.counts.total).toBe(7);
    // the same rows end the same way, now that their earlier updates are done
    const firstStatuses = r.results
      .filter((x) => !['updated', 'unchanged'].includes(x.status))
      .map((x) => x.status)
      .sort();
    expect(again.results.map((x) => x.status).sort()).toEqual(firstStatuses);
  });

  it('keeps working when the token expires or is revoked mid-run', async () => {
    await sandbox.close();
    sandbox = await startSandbox({ tokenTtlSeconds: 1, latencyMs: 40 });
    const dir = tempDir();
    const input = join(dir, 'many.csv');
    // 60 rows at concurrency 2 and 40 ms a request take well over the 1 s token life
    const lines = ['Call ID,Customer ID'];
    for (let i = 0; i < 60; i++) lines.push(`CALL-1001,C-${i}`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    const mapping = join(dir, 'm.yaml');
    writeFileSync(mapping, 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
    const revoke = setInterval(() => sandbox.revokeTokens(), 700);
    try {
      const r = await importInto(sandbox.url, { inputs: [input], mapping, concurrency: 2 });
      expect(r.counts).toMatchObject({ updated: 60, failed: 0, total: 60 });
    } finally {
      clearInterval(revoke);
    }
    expect(sandbox.stats.logins).toBeGreaterThan(2);
    expect(metadataById(sandbox)[CALL_1001]!.customer_id).toBe('C-59');
  });

  it('rows for one session are applied one after the other in file order, never at once', async () => {
    const dir = tempDir();
    const input = join(dir, 'dupes.csv');
    const lines = ['Call ID,CRM Status,Customer ID'];
    for (let i = 0; i < 40; i++) lines.push(`CALL-1004,s${i},C-${i}`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    const mapping = join(dir, 'm.yaml');
    writeFileSync(
      mapping,
      'match: { column: Call ID }\nfields:\n  crm_statuses: { column: CRM Status, type: list, merge: append }\n  customer_id: Customer ID\n',
    );
    const r = await importInto(sandbox.url, { inputs: [input], mapping, concurrency: 16 });
    expect(r.counts.updated).toBe(40);
    const meta = metadataById(sandbox)['4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f506172']!;
    expect(meta.crm_statuses).toEqual(Array.from({ length: 40 }, (_, i) => `s${i}`));
    expect(meta.customer_id).toBe('C-39');
    expect(sandbox.stats.overlappingWrites).toBe(0);
  });

  it('stops before any request when a mapped column is missing, naming the columns that exist', async () => {
    const dir = tempDir();
    const mapping = join(dir, 'm.yaml');
    writeFileSync(mapping, 'match: { column: Call ID }\nfields: { csi: { column: CSATT, type: integer } }\n');
    await expect(importInto(sandbox.url, { inputs: [fixture('crm-export.csv')], mapping })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('fields.csi.column: column "CSATT" is not in'),
    });
    expect(sandbox.requests()).toHaveLength(0);
  });
});
