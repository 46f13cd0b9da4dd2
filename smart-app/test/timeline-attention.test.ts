// "What needs attention": results of the last 30 days (critical, then abnormal, corrected, the
// rest; newest first within each) and unread inbox notices.
import { describe, expect, it } from 'vitest';
import type { Bundle } from '../src/fhir/fhir-resources';
import { buildAttentionList } from '../src/timeline/attention-list';
import { buildTimeline } from '../src/timeline/build-timeline';
import { inboxNotices } from '../src/timeline/inbox-notices';
import { CBC_REPORT, CMP_REPORT, goldenBundle, NORTHWIND_REPORT } from './fixtures/golden-bundle';

const SYSTEM = 'https://care-coordination.org/fhir/CodeSystem/notification-event';

function communication(id: string, kind: string, sent: string, received?: string): Bundle['entry'] {
  return [
    {
      resource: {
        resourceType: 'Communication',
        id,
        status: 'completed',
        category: [{ coding: [{ system: SYSTEM, code: kind }], text: `${kind} text` }],
        priority: kind === 'critical-result' ? 'urgent' : 'routine',
        subject: { reference: 'Patient/p' },
        about: [{ reference: 'Encounter/e' }],
        sent,
        ...(received !== undefined ? { received } : {}),
        meta: { source: 'urn:care:message:77', lastUpdated: sent },
      },
    },
  ];
}

const inbox: Bundle = {
  resourceType: 'Bundle',
  entry: [
    ...(communication('c1', 'admit', '2024-03-05T15:13:00Z') ?? []),
    ...(communication('c2', 'critical-result', '2024-03-05T18:32:00Z') ?? []),
    ...(communication('c3', 'discharge', '2024-03-08T20:47:00Z', '2024-03-09T08:00:00Z') ?? []),
    { resource: { resourceType: 'Patient', id: 'p' } },
  ],
};

describe('inbox notices', () => {
  it('reads kind, text, read state and urgency from the Communications, newest first', () => {
    const notices = inboxNotices(inbox);
    expect(notices.map((n) => [n.id, n.kind, n.read, n.urgent])).toEqual([
      ['c3', 'discharge', true, false],
      ['c2', 'critical-result', false, true],
      ['c1', 'admit', false, false],
    ]);
    expect(notices[0]).toMatchObject({ text: 'discharge text', about: 'Encounter/e', messageId: '77' });
  });
});

describe('attention list', () => {
  const { events } = buildTimeline(goldenBundle());
  const notices = inboxNotices(inbox);

  it('lists the last 30 days of results, critical first, and the unread notices', () => {
    const a = buildAttentionList(events, notices, { now: Date.parse('2024-03-25T00:00:00Z') });
    // The critical, corrected CMP before Northwind's normal panel and Mercy's preliminary CBC.
    expect(a.results.map((e) => e.id)).toEqual([CMP_REPORT, NORTHWIND_REPORT, CBC_REPORT]);
    expect(a.unread.map((n) => n.id)).toEqual(['c2', 'c1']);
  });

  it('drops results older than the window', () => {
    const a = buildAttentionList(events, [], { now: Date.parse('2024-04-15T00:00:00Z') });
    expect(a.results.map((e) => e.id)).toEqual([NORTHWIND_REPORT]);
    expect(buildAttentionList(events, [], { now: Date.parse('2024-06-01T00:00:00Z') }).results).toEqual([]);
  });

  it('leaves out facilities the practice already sees in its own EHR', () => {
    const a = buildAttentionList(events, [], {
      now: Date.parse('2024-03-25T00:00:00Z'),
      ownFacilities: ['MERCY'],
    });
    expect(a.results.map((e) => e.id)).toEqual([NORTHWIND_REPORT]);
  });

  it('dates a result by when it was taken, not when a late feed delivered it', () => {
    const late = events.map((e) =>
      e.type === 'lab' ? { ...e, provenance: { ...e.provenance, receivedAt: '2024-06-01T00:00:00Z' } } : e,
    );
    expect(buildAttentionList(late, [], { now: Date.parse('2024-06-02T00:00:00Z') }).results).toEqual([]);
  });
});
