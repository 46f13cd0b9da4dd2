/**
 * Malformed input at the HTTP edge, against a real engine with a real system token: every bad
 * parameter of the admin and FHIR APIs answers 400 with an OperationOutcome naming it, and none
 * reaches PostgreSQL (where a NUL byte or an id beyond bigint used to fail as a 500). A real
 * failure inside still answers 500 and is logged with the request's context.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient, type SystemClient } from '../helpers/system-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;
let client: SystemClient;
let base: string;
let token: string;
let messageId: string;
const logLines: Record<string, unknown>[] = [];

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(path: string, method: 'GET' | 'POST' = 'GET'): Promise<Reply> {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

interface Issue {
  readonly code: string;
  readonly diagnostics?: string;
  readonly expression?: string[];
}

function firstIssue(r: Reply): Issue {
  expect(r.body['resourceType']).toBe('OperationOutcome');
  const issue = (r.body['issue'] as Issue[] | undefined)?.[0];
  expect(issue).toBeDefined();
  return issue!;
}

/** 400, an OperationOutcome, `invalid`, and (when given) the parameter named in `expression`. */
async function expectBadRequest(path: string, param?: string, method: 'GET' | 'POST' = 'GET'): Promise<void> {
  const r = await call(path, method);
  expect({ path, status: r.status }).toEqual({ path, status: 400 });
  const issue = firstIssue(r);
  expect(issue.code).toBe('invalid');
  if (param !== undefined) expect(issue.expression).toEqual([param]);
}

beforeAll(async () => {
  client = await createSystemClient();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  engine = await startTestEngine({
    env: { SMART_CLIENTS_FILE: client.clientsFile },
    logger: pino({ level: 'warn' }, sink),
  });
  base = engine.config.http.publicUrl;
  token = await client.token(base, 'system/Message.rus system/*.rs');
  const mllp = await MllpTestClient.connect(engine.mllpPort);
  await mllp.send(adtMessage({ controlId: 'IN-1', mrn: 'IN-P1' }));
  mllp.close();
  await waitFor(
    async () => (await engine.db.query(`SELECT 1 FROM messages WHERE status = 'received'`)).length === 0,
  );
  const [row] = await engine.db.query<{ id: string }>(`SELECT id::text AS id FROM messages LIMIT 1`);
  messageId = row!.id;
});
afterAll(async () => {
  await engine.destroy();
});

const BIG = '99999999999999999999';
const NO_SUCH_ID = '9223372036854775807';

describe('the inputs named in the issue', () => {
  it('NUL in an admin search parameter is 400, not 500', async () => {
    await expectBadRequest('/api/messages?sender=a%00b', 'sender');
  });
  it('NUL in a FHIR search parameter is 400, not 500', async () => {
    await expectBadRequest('/fhir/Patient?name=a%00b', 'name');
  });
  it('an id beyond bigint is 400 on read, replay and as the paging cursor', async () => {
    await expectBadRequest(`/api/messages/${BIG}`, 'id');
    await expectBadRequest(`/api/messages/${BIG}/replay`, 'id', 'POST');
    await expectBadRequest(`/api/messages?before=${BIG}`, 'before');
  });
});

describe('admin API: every parameter is checked before the store sees it', () => {
  const badQueries: [string, string][] = [
    ['controlId=a%00b', 'controlId'],
    ['patient=a%00b', 'patient'],
    ['patient=GHH%7Ca%00', 'patient'],
    ['sender=a%09b', 'sender'],
    ['sender=a%1Fb', 'sender'],
    ['sender=a%7Fb', 'sender'],
    [`sender=${'a'.repeat(513)}`, 'sender'],
    ['sender=', 'sender'],
    ['sender=a&sender=b', 'sender'],
    ['status=processed&status=failed', 'status'],
    ['status=bogus', 'status'],
    ['type=adt', 'type'],
    ['type=ADT%00', 'type'],
    ['since=2024-13-45', 'since'],
    ['since=2024-02-30', 'since'],
    ['since=2024-01-01T25:00:00Z', 'since'],
    ['since=2024-01-01T00:00:00', 'since'],
    ['since=abc', 'since'],
    ['before=9223372036854775808', 'before'],
    ['before=0', 'before'],
    ['before=0001', 'before'],
    ['before=-1', 'before'],
    ['before=abc', 'before'],
    ['before=1&before=2', 'before'],
    ['_count=0', '_count'],
    ['_count=-1', '_count'],
    ['_count=1001', '_count'],
    [`_count=${BIG}`, '_count'],
    ['_count=abc', '_count'],
    ['_count=1.5', '_count'],
    ['_count=1e3', '_count'],
    ['_count=0x10', '_count'],
    ['_count=%2B5', '_count'],
    ['_count=%205', '_count'],
    ['_count=', '_count'],
    ['_sort=foo', '_sort'],
    ['a%00b=1', 'a\u0000b'],
  ];
  it.each(badQueries)('GET /api/messages?%s is 400 naming %s', async (query, param) => {
    await expectBadRequest(`/api/messages?${query}`, param);
  });

  const badIds = [BIG, '9223372036854775808', '0', '-1', 'abc', '1e3', '1.0', '%2B1', '01', '1%00', '%ZZ'];
  it.each(badIds)('GET /api/messages/%s is 400', async (id) => {
    await expectBadRequest(`/api/messages/${id}`, id === '%ZZ' ? undefined : 'id');
  });
  it.each(badIds)('POST /api/messages/%s/replay is 400', async (id) => {
    await expectBadRequest(`/api/messages/${id}/replay`, id === '%ZZ' ? undefined : 'id', 'POST');
  });

  it('still answers good input: the largest id is a 404, unicode and the limits are fine', async () => {
    expect((await call(`/api/messages/${NO_SUCH_ID}`)).status).toBe(404);
    expect((await call(`/api/messages/${NO_SUCH_ID}/replay`, 'POST')).status).toBe(404);
    expect((await call(`/api/messages/${messageId}`)).status).toBe(200);
    for (const query of [
      `before=${NO_SUCH_ID}`,
      '_count=1000',
      '_count=1',
      'sender=%E2%98%83',
      'sender=%F0%9F%98%80',
      `sender=${'a'.repeat(512)}`,
      'since=2024-02-29',
      'since=2024-01-01T00:00:00.123456789%2B02:00',
      'since=0000-01-01T00:00:00%2B14:00',
      'type=ADT%5EA01&sender=GHH&status=processed&controlId=IN-1&patient=IN-P1',
    ]) {
      const r = await call(`/api/messages?${query}`);
      expect({ query, status: r.status }).toEqual({ query, status: 200 });
    }
    const found = await call('/api/messages?controlId=IN-1&patient=GHH%7CIN-P1&since=2000-01-01');
    expect((found.body['messages'] as unknown[]).length).toBe(1);
  });

  it('lists every problem of a request, each naming its parameter', async () => {
    const r = await call('/api/messages?sender=a%00&_count=0&colour=red');
    expect(r.status).toBe(400);
    const expressions = (r.body['issue'] as Issue[]).map((i) => i.expression?.[0]).sort();
    expect(expressions).toEqual(['_count', 'colour', 'sender']);
  });
});

describe('FHIR API: control characters and runaway searches are refused', () => {
  const badSearches: [string, string][] = [
    ['Patient?family=a%00b', 'family'],
    ['Patient?given=%00', 'given'],
    ['Patient?identifier=a%00b', 'identifier'],
    ['Patient?identifier=http://x%7Ca%00', 'identifier'],
    ['Patient?gender=%00', 'gender'],
    ['Patient?name=a%09b', 'name'],
    ['Patient?name=a%0Db', 'name'],
    ['Patient?name=a%7F', 'name'],
    ['Patient?_id=a%00', '_id'],
    ['Patient?_sort=%00', '_sort'],
    ['Patient?_format=%00', '_format'],
    ['Patient?name%00=1', 'name\u0000'],
    ['Observation?code=%00%7C%00', 'code'],
    ['Observation?category=a%00', 'category'],
    ['Observation?patient=Patient/a%00', 'patient'],
    ['Patient?birthdate=2024-13-45', 'birthdate'],
    ['Patient?_lastUpdated=2024-02-30', '_lastUpdated'],
    // Year 0 in UTC: PostgreSQL's timestamptz could not read it (a 500 before).
    ['Patient?_lastUpdated=lt0001-01-01T00:00:00%2B14:00', '_lastUpdated'],
    ['Observation?date=sa0001-01-01T00:00:00%2B01:00', 'date'],
    ['Patient?_count=abc', '_count'],
    ['Patient?_count=-1', '_count'],
    [`Patient?_count=${BIG}`, '_count'],
    ['Patient?_offset=-1', '_offset'],
    [`Patient?name=${'a'.repeat(1025)}`, 'name'],
    [`Patient?name=${Array.from({ length: 1001 }, () => 'a').join(',')}`, 'name'],
    [`Patient?${Array.from({ length: 21 }, () => 'name=a').join('&')}`, 'name'],
    [`Patient?_sort=${Array.from({ length: 9 }, () => 'birthdate').join(',')}`, '_sort'],
    [
      `Patient?${Array.from({ length: 11 }, () => '_include=Patient:general-practitioner').join('&')}`,
      '_include',
    ],
  ];
  it.each(badSearches)('GET /fhir/%s is 400 naming %s', async (search, param) => {
    await expectBadRequest(`/fhir/${search}`, param);
  });

  const badPaths: [string, string | undefined][] = [
    ['Patient/a%00b', 'id'],
    ['Patient/a%00b/_history', 'id'],
    ['Patient/a/_history/%00', 'vid'],
    ['Patient/a/_history/1%0A', 'vid'],
    ['Patient/%ZZ', undefined],
    ['Patient/a/_history/%ZZ', undefined],
  ];
  it.each(badPaths)('GET /fhir/%s is 400', async (path, param) => {
    await expectBadRequest(`/fhir/${path}`, param);
  });

  it('still answers good input', async () => {
    for (const search of [
      'Patient?name=%E2%98%83',
      'Patient?name=%ED%A0%80',
      `Patient?name=${'a'.repeat(1024)}`,
      `Patient?name=${Array.from({ length: 1000 }, () => 'a').join(',')}`,
      `Patient?${Array.from({ length: 20 }, () => 'name=a').join('&')}`,
      'Patient?_sort=birthdate,-_lastUpdated,_id&_count=500&_offset=999999999',
      'Patient?_count=100000',
      'Patient?name=a&name=b',
    ]) {
      const r = await call(`/fhir/${search}`);
      expect({ search: search.slice(0, 60), status: r.status }).toEqual({
        search: search.slice(0, 60),
        status: 200,
      });
    }
    expect((await call('/fhir/Patient/a/_history/99999999999')).status).toBe(404);
  });
});

describe('a real failure', () => {
  it('still answers 500 and is logged with the request context', async () => {
    await engine.db.query('ALTER TABLE messages RENAME TO messages_hidden');
    try {
      const r = await call('/api/messages?sender=GHH');
      expect(r.status).toBe(500);
      expect(firstIssue(r)).toMatchObject({ code: 'exception', diagnostics: 'internal error' });
    } finally {
      await engine.db.query('ALTER TABLE messages_hidden RENAME TO messages');
    }
    const line = logLines.find((l) => l['msg'] === 'HTTP handler failed');
    expect(line).toMatchObject({ level: 50, method: 'GET', path: '/api/messages', params: ['sender'] });
    // 42P01: undefined_table. `at` is where it was thrown: code locations, no data.
    expect(line?.['err']).toMatchObject({
      code: '42P01',
      message: expect.stringMatching(/messages/) as unknown,
    });
    expect(line?.['at']).toEqual(expect.arrayContaining([expect.stringMatching(/^at /)]));
    expect(JSON.stringify(line)).not.toContain('GHH');
  });
});
