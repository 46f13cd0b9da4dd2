/**
 * The message browser's filters: what the form holds, how they live in the console's address
 * (so a search can be bookmarked and shared), and how they become `GET /api/messages` parameters.
 * Dates are calendar days in the analyst's zone; the API takes instants, so a day becomes its
 * first and last millisecond there.
 */
import { MESSAGE_STATUSES, type MessageStatus } from '../api/api-types';

export interface MessageFilter {
  readonly sender: string;
  /** `ADT` or `ADT^A01`. */
  readonly type: string;
  readonly status: MessageStatus | '';
  readonly controlId: string;
  /** PID-3.1, optionally `FACILITY|id`. */
  readonly mrn: string;
  /** `family` or `family, given`. */
  readonly name: string;
  /** `YYYY-MM-DD`, inclusive. */
  readonly from: string;
  /** `YYYY-MM-DD`, inclusive. */
  readonly until: string;
  /** An error group's key (from the errors screen). */
  readonly errorKey: string;
}

export const EMPTY_FILTER: MessageFilter = {
  sender: '',
  type: '',
  status: '',
  controlId: '',
  mrn: '',
  name: '',
  from: '',
  until: '',
  errorKey: '',
};

const FIELDS = Object.keys(EMPTY_FILTER) as readonly (keyof MessageFilter)[];

function isStatus(v: string): v is MessageStatus {
  return (MESSAGE_STATUSES as readonly string[]).includes(v);
}

/** The filter a console address holds; unknown keys and bad statuses are dropped. */
export function filterFromSearch(search: string | URLSearchParams): MessageFilter {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const read = (k: keyof MessageFilter): string => params.get(k)?.trim() ?? '';
  const status = read('status');
  return {
    sender: read('sender'),
    type: read('type'),
    status: isStatus(status) ? status : '',
    controlId: read('controlId'),
    mrn: read('mrn'),
    name: read('name'),
    from: read('from'),
    until: read('until'),
    errorKey: read('errorKey'),
  };
}

/** The console address query for a filter: only the fields set, in a stable order. */
export function filterToSearch(filter: MessageFilter): string {
  const params = new URLSearchParams();
  for (const k of FIELDS) {
    const v = filter[k].trim();
    if (v !== '') params.set(k, v);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** How many filters are set. */
export function activeFilterCount(filter: MessageFilter): number {
  return FIELDS.filter((k) => filter[k].trim() !== '').length;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The first (or last) millisecond of a local calendar day, as an ISO instant; undefined when bad. */
export function dayBoundary(day: string, edge: 'start' | 'end'): string | undefined {
  const m = DAY.exec(day);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = edge === 'start' ? new Date(y, mo - 1, d, 0, 0, 0, 0) : new Date(y, mo - 1, d, 23, 59, 59, 999);
  // Date rolls 2024-02-31 over into March: such a day does not exist.
  if (at.getFullYear() !== y || at.getMonth() !== mo - 1 || at.getDate() !== d) return undefined;
  return at.toISOString();
}

/** What is wrong with a filter before it is sent, one sentence each. */
export function filterProblems(filter: MessageFilter): string[] {
  const problems: string[] = [];
  const type = filter.type.trim().toUpperCase();
  if (type !== '' && !/^[A-Z0-9]{3}(\^[A-Z0-9]{3})?$/.test(type)) {
    problems.push('Type must be a message type such as ADT or ADT^A01.');
  }
  const from = filter.from === '' ? undefined : dayBoundary(filter.from, 'start');
  const until = filter.until === '' ? undefined : dayBoundary(filter.until, 'end');
  if (filter.from !== '' && from === undefined) problems.push('From must be a date.');
  if (filter.until !== '' && until === undefined) problems.push('Until must be a date.');
  if (from !== undefined && until !== undefined && from > until) {
    problems.push('From must not be after until.');
  }
  return problems;
}

/** `GET /api/messages` parameters for a filter (the first page; later pages follow `next`). */
export function messageQuery(filter: MessageFilter, count = 50): URLSearchParams {
  const params = new URLSearchParams();
  const set = (k: string, v: string | undefined): void => {
    if (v !== undefined && v.trim() !== '') params.set(k, v.trim());
  };
  set('sender', filter.sender);
  set('type', filter.type.toUpperCase());
  set('status', filter.status);
  set('controlId', filter.controlId);
  set('patient', filter.mrn);
  set('name', filter.name);
  set('since', filter.from === '' ? undefined : dayBoundary(filter.from, 'start'));
  set('until', filter.until === '' ? undefined : dayBoundary(filter.until, 'end'));
  set('errorKey', filter.errorKey);
  params.set('_count', String(count));
  return params;
}

/** The replay filter for "replay everything this search finds" (no paging fields). */
export function replayFilter(filter: MessageFilter): Record<string, string> {
  const params = messageQuery(filter);
  params.delete('_count');
  return Object.fromEntries(params.entries());
}
