/**
 * Which notices one event makes, from the recipients the directory found and the subscriptions
 * that match: one per endpoint (reasons of every role that shares it merged), one inbox entry per
 * role registered through the API (never for one a hospital message made), one per matching
 * subscription. Pure, so the rules are tested without SQL.
 */
import type { NewNotice, NoticeReason } from '../store/notification-store';
import { noticeIdOf } from './notice-id';
import type { RegisteredRecipient } from './recipient-directory';

export interface MatchedSubscription {
  readonly id: string;
}

export interface NoticePlan {
  readonly notices: readonly NewNotice[];
  /** Inbox notices, with the recipients their Communication names. */
  readonly inbox: readonly { readonly noticeId: string; readonly recipients: readonly string[] }[];
  readonly subscriptions: readonly string[];
}

export function planNotices(
  eventKey: string,
  recipients: readonly RegisteredRecipient[],
  subscriptions: readonly MatchedSubscription[],
): NoticePlan {
  const byEndpoint = new Map<string, { channel: 'davinci' | 'webhook'; reasons: NoticeReason[] }>();
  const notices: NewNotice[] = [];
  const inbox: { noticeId: string; recipients: string[] }[] = [];
  for (const r of recipients) {
    for (const e of r.endpoints) {
      const entry = byEndpoint.get(e.ref) ?? { channel: e.channel, reasons: [] };
      entry.reasons.push(...r.reasons);
      byEndpoint.set(e.ref, entry);
    }
    if (r.inbox) {
      const noticeId = noticeIdOf(eventKey, 'inbox', r.target);
      notices.push({ noticeId, channel: 'inbox', target: r.target, reasons: r.reasons, delivered: true });
      inbox.push({
        noticeId,
        recipients: [r.target, ...(r.practitioner !== undefined ? [r.practitioner] : [])],
      });
    }
  }
  for (const [target, { channel, reasons }] of byEndpoint) {
    notices.push({
      noticeId: noticeIdOf(eventKey, channel, target),
      channel,
      target,
      reasons: unique(reasons),
    });
  }
  for (const s of subscriptions) {
    const target = `Subscription/${s.id}`;
    notices.push({
      noticeId: noticeIdOf(eventKey, 'subscription', target),
      channel: 'subscription',
      target,
      reasons: [{ source: 'subscription', via: target }],
    });
  }
  return { notices, inbox, subscriptions: subscriptions.map((s) => s.id) };
}

function unique(reasons: readonly NoticeReason[]): NoticeReason[] {
  const seen = new Map<string, NoticeReason>();
  for (const r of reasons) seen.set(`${r.source}|${r.practitioner ?? ''}|${r.via}`, r);
  return [...seen.values()];
}
