/**
 * The practice inbox's read state (`/api/inbox`): the SMART app lists a role's notices as FHIR
 * `Communication` (`/fhir/Communication?recipient=PractitionerRole/<id>`) and marks one read or
 * unread here. Read state is `Communication.received`; each change is a new version, audited.
 */
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { AuditEvent } from '../auth/audit-log';
import type { Db } from '../store/db';
import { lockCurrent, writeVersion } from '../store/fhir-version-writer';
import { adminAccess } from './admin-access';
import { outcome, sendOutcome } from './operation-outcome';
import { parseParams } from './request-params';

export interface InboxRouteDeps {
  readonly db: Db;
  readonly authorize: RequestHandler;
  readonly audit: (event: AuditEvent) => Promise<void>;
}

const path = z.object({
  id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a Communication id'),
  state: z.enum(['read', 'unread'], { error: 'must be read or unread' }),
});

export function createInboxRouter(deps: InboxRouteDeps): Router {
  const router = express.Router();
  router.use(deps.authorize);
  const access = adminAccess(deps.audit, 'Communication');
  router.post('/:id/:state', async (req, res) => {
    const ctx = await access.allowed(res, [['Communication', 'u']], 'update');
    if (ctx === undefined) return;
    const p = parseParams(res, path, req.params);
    if (p === undefined) return;
    const result = await deps.db.transaction(async (tx) => {
      const cur = await lockCurrent(tx, 'Communication', p.id);
      if (cur === undefined || cur.deleted) return undefined;
      const { meta: _meta, received: _received, ...rest } = cur.resource;
      const isRead = cur.resource['received'] !== undefined;
      if (isRead === (p.state === 'read')) return { resource: cur.resource, changed: false };
      const now = new Date().toISOString();
      const body = p.state === 'read' ? { ...rest, received: now } : rest;
      const version = await writeVersion(
        tx,
        {
          type: 'Communication',
          id: p.id,
          body,
          deleted: false,
          eventTime: now,
          lastUpdated: now,
          messageId: `api:inbox`,
          source: `urn:care:api:${ctx.clientId}`,
        },
        cur,
      );
      return { resource: { ...body, id: p.id, meta: { versionId: String(version) } }, changed: true };
    });
    if (result === undefined) {
      sendOutcome(res, outcome('not-found', `Communication/${p.id} not found`));
      return;
    }
    const subject = (result.resource['subject'] as { reference?: string } | undefined)?.reference;
    await access.audit(
      ctx,
      { action: 'update', outcome: 'success', resourceId: p.id },
      subject?.startsWith('Patient/') === true ? [subject.slice(8)] : [],
    );
    res.json({ id: p.id, state: p.state, changed: result.changed });
  });
  router.use((req, res) => {
    sendOutcome(res, outcome('not-found', `no route for ${req.method} /api/inbox${req.path}`));
  });
  return router;
}
