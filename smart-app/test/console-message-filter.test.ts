// The message browser's filters: the console address round trip (bookmarkable searches), the
// `GET /api/messages` parameters they become (dates as local day boundaries, MRN as `patient`,
// type upper-cased), what the form refuses before sending, and the replay filter without paging.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  activeFilterCount,
  dayBoundary,
  EMPTY_FILTER,
  filterFromSearch,
  filterProblems,
  filterToSearch,
  messageQuery,
  replayFilter,
  type MessageFilter,
} from '../src/console/messages/message-filter';

const TZ = process.env['TZ'];
beforeEach(() => {
  // Day boundaries are local: pin the zone so the instants are known.
  process.env['TZ'] = 'America/Chicago';
});
afterEach(() => {
  if (TZ === undefined) delete process.env['TZ'];
  else process.env['TZ'] = TZ;
});

const FULL: MessageFilter = {
  sender: 'EPIC^MERCY',
  type: 'adt^a01',
  status: 'failed',
  controlId: 'A01-0001',
  mrn: 'MERCY|12345',
  name: 'Okafor, Margaret',
  from: '2026-03-01',
  until: '2026-03-07',
  errorKey: '',
};

describe('message filters', () => {
  it('turns every filter into its API parameter', () => {
    const q = messageQuery(FULL, 25);
    expect(Object.fromEntries(q.entries())).toEqual({
      sender: 'EPIC^MERCY',
      type: 'ADT^A01',
      status: 'failed',
      controlId: 'A01-0001',
      patient: 'MERCY|12345',
      name: 'Okafor, Margaret',
      since: '2026-03-01T06:00:00.000Z',
      until: '2026-03-08T05:59:59.999Z',
      _count: '25',
    });
  });

  it('sends only what is set, trimmed', () => {
    const q = messageQuery({ ...EMPTY_FILTER, controlId: '  X1 ', errorKey: 'k1' });
    expect(q.toString()).toBe('controlId=X1&errorKey=k1&_count=50');
    expect(messageQuery(EMPTY_FILTER).toString()).toBe('_count=50');
  });

  it('round-trips through the console address and drops what it does not know', () => {
    const search = filterToSearch(FULL);
    expect(filterFromSearch(search)).toEqual(FULL);
    expect(filterToSearch(EMPTY_FILTER)).toBe('');
    expect(filterFromSearch('?status=bogus&colour=red&mrn=7')).toEqual({ ...EMPTY_FILTER, mrn: '7' });
    expect(activeFilterCount(FULL)).toBe(8);
  });

  it('takes a day boundary across a DST change in the local zone', () => {
    // 2026-03-08 is the spring-forward day in Chicago: it starts at CST and ends at CDT.
    expect(dayBoundary('2026-03-08', 'start')).toBe('2026-03-08T06:00:00.000Z');
    expect(dayBoundary('2026-03-08', 'end')).toBe('2026-03-09T04:59:59.999Z');
    expect(dayBoundary('2026-02-31', 'start')).toBeUndefined();
    expect(dayBoundary('March 1', 'start')).toBeUndefined();
  });

  it('refuses a bad type and a period that ends before it starts', () => {
    expect(filterProblems(FULL)).toEqual([]);
    expect(filterProblems({ ...EMPTY_FILTER, type: 'ADT-A01' })).toEqual([
      'Type must be a message type such as ADT or ADT^A01.',
    ]);
    expect(filterProblems({ ...EMPTY_FILTER, from: '2026-03-08', until: '2026-03-01' })).toEqual([
      'From must not be after until.',
    ]);
  });

  it('makes a replay filter of a search, without paging', () => {
    expect(replayFilter({ ...EMPTY_FILTER, status: 'failed', errorKey: 'k' })).toEqual({
      status: 'failed',
      errorKey: 'k',
    });
  });
});
