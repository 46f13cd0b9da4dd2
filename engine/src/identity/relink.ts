/**
 * A full relink (`npm run identity:relink`): every stored Patient decided again by the same
 * `decideLink` the pipeline uses, with candidates from an in-memory block index instead of the
 * database, then written in one transaction that holds the pipeline's linking off. Merges and
 * analysts' decisions are facts, not scores: their records are put together first and never
 * re-decided. Person ids are kept where a person survives, so links to them stay valid.
 */
import type { Db, Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { hashResourceId } from '../mapping/resource-id';
import { blockingKeys } from './blocking-keys';
import { demographicsOf, type Demographics } from './demographics';
import { demographicsHash } from './identity-store';
import { openReviews, type ReviewWrite } from './review-store';
import type { IdentityRules } from './link-patient';
import { decideLink, type LinkedRecord, type LinkReason } from './link-decision';
import type { NameFrequencies } from './match-model';
import { survivorOf } from './patient-merge';
import { holdRelinkExclusive } from './relink-lock';

export interface RelinkReport {
  readonly records: number;
  readonly persons: number;
  /** Records whose person, reason or demographics changed. */
  readonly changed: number;
  readonly reviews: number;
  readonly seconds: { readonly load: number; readonly link: number; readonly write: number };
}

interface Loaded {
  readonly id: string;
  readonly demographics: Demographics;
  readonly survivor: string | undefined;
}

interface Existing {
  readonly personId: string;
  /** When its person was created (epoch ms): older persons are kept first. */
  readonly personSince: number;
  readonly reason: LinkReason;
  readonly assurance: string;
  readonly hash: string;
}

interface Assigned {
  readonly personId: string;
  readonly reason: LinkReason;
  readonly assurance: 'level3' | 'level4';
  readonly evidence?: { readonly patientId: string; readonly weight?: number };
  readonly blockKeys: readonly string[];
}

const PAGE = 5_000;

async function loadPatients(db: Queryable): Promise<Loaded[]> {
  const out: Loaded[] = [];
  let after = '';
  for (;;) {
    const rows = await db.query<{ id: string; resource: JsonObject }>(
      `SELECT id, resource FROM fhir_resources WHERE resource_type = 'Patient' AND NOT deleted AND id > $1
        ORDER BY id LIMIT $2`,
      [after, PAGE],
    );
    for (const r of rows) {
      const resource = { ...r.resource, id: r.id };
      out.push({ id: r.id, demographics: demographicsOf(resource), survivor: survivorOf(resource) });
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE) return out;
    after = last.id;
  }
}

async function loadExisting(db: Queryable): Promise<Map<string, Existing>> {
  const rows = await db.query<{
    patient_id: string;
    person_id: string;
    reason: LinkReason;
    assurance: string;
    demographics_hash: string;
    since: string;
  }>(
    `SELECT r.patient_id, r.person_id, r.reason, r.assurance, r.demographics_hash,
            (extract(epoch FROM p.created_at) * 1000)::bigint::text AS since
       FROM identity_records r JOIN identity_persons p ON p.id = r.person_id`,
  );
  return new Map(
    rows.map((r) => [
      r.patient_id,
      {
        personId: r.person_id,
        personSince: Number(r.since),
        reason: r.reason,
        assurance: r.assurance,
        hash: r.demographics_hash,
      },
    ]),
  );
}

/** The latest decision on each pair: links group records, separations keep persons apart. */
async function loadDecisions(
  db: Queryable,
): Promise<{ links: [string, string, 'analyst' | 'merge'][]; separated: Map<string, Set<string>> }> {
  const rows = await db.query<{
    patient_a: string;
    patient_b: string;
    decision: string;
    source: 'analyst' | 'merge';
  }>(
    `SELECT DISTINCT ON (patient_a, patient_b) patient_a, patient_b, decision, source
       FROM identity_decisions ORDER BY patient_a, patient_b, id DESC`,
  );
  const links: [string, string, 'analyst' | 'merge'][] = [];
  const separated = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.decision === 'link') links.push([r.patient_a, r.patient_b, r.source]);
    else {
      for (const [x, y] of [
        [r.patient_a, r.patient_b],
        [r.patient_b, r.patient_a],
      ] as const) {
        const set = separated.get(x) ?? new Set<string>();
        set.add(y);
        separated.set(x, set);
      }
    }
  }
  return { links, separated };
}

/** Union-find over patient ids: the groups certain facts make. */
class Groups {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let root = x;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root) as string;
    this.parent.set(x, root);
    return root;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

function countNames(records: readonly Loaded[]): NameFrequencies & { readonly raw: Map<string, number> } {
  const raw = new Map<string, number>();
  let total = 0;
  for (const r of records) {
    if (!r.demographics.active) continue;
    total++;
    const g = r.demographics.given[0];
    const f = r.demographics.families[0];
    if (g !== undefined) raw.set(`given:${g}`, (raw.get(`given:${g}`) ?? 0) + 1);
    if (f !== undefined) raw.set(`family:${f}`, (raw.get(`family:${f}`) ?? 0) + 1);
  }
  return { total, raw, count: (kind, value) => raw.get(`${kind}:${value}`) ?? 0 };
}

/** Decides every record in memory; exported for the benchmark, which times it apart from I/O. */
export function relinkInMemory(
  records: readonly Loaded[],
  existing: ReadonlyMap<string, Existing>,
  decisions: Awaited<ReturnType<typeof loadDecisions>>,
  rules: IdentityRules,
): { assigned: Map<string, Assigned>; reviews: ReviewWrite[] } {
  const groups = new Groups();
  const certainReason = new Map<string, LinkReason>();
  for (const [a, b, source] of decisions.links) {
    groups.union(a, b);
    for (const id of [a, b]) if (certainReason.get(id) !== 'merge') certainReason.set(id, source);
  }
  for (const r of records) {
    if (r.survivor === undefined) continue;
    groups.union(r.survivor, r.id);
    certainReason.set(r.id, 'merge');
  }
  const frequencies = countNames(records);
  const blocks = new Map<string, LinkedRecord[]>();
  const members = new Map<string, LinkedRecord[]>();
  const personOfGroup = new Map<string, string>();
  const usedPersons = new Set<string>();
  const assigned = new Map<string, Assigned>();
  const reviews: ReviewWrite[] = [];

  const freshPerson = (id: string): string => {
    const previous = existing.get(id)?.personId;
    if (previous !== undefined && !usedPersons.has(previous)) return previous;
    for (let n = 0; ; n++) {
      const candidate = hashResourceId('Person', n === 0 ? [id] : [id, String(n)]);
      if (!usedPersons.has(candidate)) return candidate;
    }
  };
  const place = (r: Loaded, a: Assigned): void => {
    assigned.set(r.id, a);
    usedPersons.add(a.personId);
    const linked: LinkedRecord = { demographics: r.demographics, personId: a.personId, reason: a.reason };
    const list = members.get(a.personId) ?? [];
    list.push(linked);
    members.set(a.personId, list);
    for (const key of a.blockKeys) {
      const block = blocks.get(key) ?? [];
      block.push(linked);
      blocks.set(key, block);
    }
    personOfGroup.set(groups.find(r.id), a.personId);
  };

  // Survivors before merged records (a merged record joins its survivor); then the records that
  // founded their persons, so the others meet them as they did in the pipeline and person ids and
  // reasons stay where nothing changed; the oldest persons first, so two founders that now match
  // keep the older person's id; then by id, for a stable order.
  const rank = (r: Loaded): number =>
    (r.survivor !== undefined ? 2 : 0) + (existing.get(r.id)?.reason === 'founder' ? 0 : 1);
  const since = (r: Loaded): number => existing.get(r.id)?.personSince ?? Number.MAX_SAFE_INTEGER;
  const ordered = [...records].sort(
    (a, b) => rank(a) - rank(b) || since(a) - since(b) || (a.id < b.id ? -1 : 1),
  );
  for (const r of ordered) {
    const blockKeys = blockingKeys(r.demographics, rules.certainTypes);
    const groupPerson = personOfGroup.get(groups.find(r.id));
    if (groupPerson !== undefined) {
      place(r, {
        personId: groupPerson,
        reason: certainReason.get(r.id) ?? 'analyst',
        assurance: 'level4',
        blockKeys,
      });
      continue;
    }
    if (!r.demographics.active) {
      place(r, { personId: freshPerson(r.id), reason: 'founder', assurance: 'level4', blockKeys });
      continue;
    }
    // Records sharing a key are scored; the rest of their persons come along for the rules only.
    const hits = new Set<LinkedRecord>();
    for (const key of blockKeys) for (const c of blocks.get(key) ?? []) hits.add(c);
    const persons = new Set([...hits].map((c) => c.personId));
    const candidates = [...persons].flatMap((p) =>
      (members.get(p) ?? []).map((c) => (hits.has(c) ? c : { ...c, blockHit: false })),
    );
    const decision = decideLink({
      record: r.demographics,
      candidates,
      separated: decisions.separated.get(r.id) ?? new Set(),
      certainTypes: rules.certainTypes,
      thresholds: rules.thresholds,
      frequencies,
    });
    for (const rv of decision.reviews) {
      reviews.push({
        a: r.id,
        b: rv.patientId,
        weight: rv.score.weight,
        reason: rv.reason,
        breakdown: { fields: rv.score.fields, veto: rv.score.veto ?? null },
      });
    }
    if (decision.kind === 'join') {
      place(r, {
        personId: decision.personId,
        reason: decision.reason,
        assurance: decision.assurance,
        evidence: { patientId: decision.evidence.patientId, weight: decision.evidence.score.weight },
        blockKeys,
      });
    } else {
      place(r, {
        personId: freshPerson(r.id),
        reason: certainReason.get(r.id) ?? 'founder',
        assurance: 'level4',
        blockKeys,
      });
    }
  }
  return { assigned, reviews };
}

const SEP = '\u001f';

async function writeAssignments(
  tx: Queryable,
  records: readonly Loaded[],
  existing: ReadonlyMap<string, Existing>,
  assigned: ReadonlyMap<string, Assigned>,
): Promise<number> {
  const changed = records.filter((r) => {
    const a = assigned.get(r.id);
    const e = existing.get(r.id);
    return (
      a !== undefined &&
      (e === undefined ||
        e.personId !== a.personId ||
        e.reason !== a.reason ||
        e.assurance !== a.assurance ||
        e.hash !== demographicsHash(r.demographics))
    );
  });
  const touched = new Set<string>();
  for (const r of changed) {
    touched.add(assigned.get(r.id)?.personId as string);
    const before = existing.get(r.id)?.personId;
    if (before !== undefined) touched.add(before);
  }
  // Rewriting most rows: building the blocking index once afterwards is several times faster than
  // maintaining it row by row. Same definition as migration 007; the table is locked meanwhile,
  // which the exclusive relink lock already implies for linking.
  const rebuild = changed.length > 10_000 && changed.length * 2 > records.length;
  if (rebuild) await tx.query(`DROP INDEX IF EXISTS identity_records_blocks`);
  const live = new Set([...assigned.values()].map((a) => a.personId));
  const upsertPersons = [...touched].filter((p) => live.has(p));
  for (let i = 0; i < upsertPersons.length; i += PAGE) {
    await tx.query(
      `INSERT INTO identity_persons (id) SELECT unnest($1::text[])
       ON CONFLICT (id) DO UPDATE SET active = true, merged_into = NULL,
         version_id = identity_persons.version_id + 1, updated_at = now()`,
      [upsertPersons.slice(i, i + PAGE)],
    );
  }
  for (let i = 0; i < changed.length; i += PAGE) {
    const page = changed.slice(i, i + PAGE);
    const col = <T>(f: (r: Loaded, a: Assigned) => T): T[] =>
      page.map((r) => f(r, assigned.get(r.id) as Assigned));
    await tx.query(
      `INSERT INTO identity_records (patient_id, person_id, reason, assurance, evidence_patient, evidence_weight,
          active, demographics, demographics_hash, given_key, family_key, block_keys)
       SELECT t.id, t.person, t.reason, t.assurance, t.ev, t.evw, t.active, t.demo::jsonb, t.hash, t.given, t.family,
              CASE WHEN t.blocks = '' THEN '{}'::text[] ELSE string_to_array(t.blocks, $13) END
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::bool[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
           AS t(id, person, reason, assurance, ev, evw, active, demo, hash, given, family, blocks)
       ON CONFLICT (patient_id) DO UPDATE SET person_id = EXCLUDED.person_id, reason = EXCLUDED.reason,
          assurance = EXCLUDED.assurance, evidence_patient = EXCLUDED.evidence_patient,
          evidence_weight = EXCLUDED.evidence_weight, active = EXCLUDED.active, demographics = EXCLUDED.demographics,
          demographics_hash = EXCLUDED.demographics_hash, given_key = EXCLUDED.given_key,
          family_key = EXCLUDED.family_key, block_keys = EXCLUDED.block_keys, linked_at = now()`,
      [
        col((r) => r.id),
        col((_r, a) => a.personId),
        col((_r, a) => a.reason),
        col((_r, a) => a.assurance),
        col((_r, a) => a.evidence?.patientId ?? null),
        col((_r, a) => a.evidence?.weight ?? null),
        col((r) => r.demographics.active),
        col((r) => JSON.stringify(r.demographics)),
        col((r) => demographicsHash(r.demographics)),
        col((r) => r.demographics.given[0] ?? null),
        col((r) => r.demographics.families[0] ?? null),
        col((_r, a) => a.blockKeys.join(SEP)),
        SEP,
      ],
    );
  }
  if (rebuild) {
    await tx.query(
      `CREATE INDEX identity_records_blocks ON identity_records USING gin (block_keys) WITH (fastupdate = off)`,
    );
  }
  await tx.query(
    `UPDATE identity_persons p SET active = false, version_id = version_id + 1, updated_at = now()
      WHERE active AND NOT EXISTS (SELECT 1 FROM identity_records r WHERE r.person_id = p.id)`,
  );
  await tx.query(`DELETE FROM identity_name_counts`);
  await tx.query(
    `INSERT INTO identity_name_counts (kind, value, n)
       SELECT 'given', given_key, count(*) FROM identity_records WHERE active AND given_key IS NOT NULL GROUP BY given_key
     UNION ALL
       SELECT 'family', family_key, count(*) FROM identity_records WHERE active AND family_key IS NOT NULL GROUP BY family_key`,
  );
  return changed.length;
}

/** Relinks every stored Patient; see the file comment. */
export async function relinkAll(db: Db, rules: IdentityRules): Promise<RelinkReport> {
  const t0 = performance.now();
  const records = await loadPatients(db);
  const existing = await loadExisting(db);
  const decisions = await loadDecisions(db);
  const t1 = performance.now();
  const { assigned, reviews } = relinkInMemory(records, existing, decisions, rules);
  const t2 = performance.now();
  const changed = await db.transaction(async (tx) => {
    await holdRelinkExclusive(tx);
    const n = await writeAssignments(tx, records, existing, assigned);
    await openReviews(tx, reviews);
    return n;
  });
  // A relink rewrites most rows at once: without this the blocking index answers from its
  // pending list and stale statistics, and the next messages' linking is many times slower.
  for (const table of ['identity_records', 'identity_persons', 'identity_name_counts', 'identity_reviews']) {
    await db.query(`VACUUM (ANALYZE) ${table}`);
  }
  const t3 = performance.now();
  return {
    records: records.length,
    persons: new Set([...assigned.values()].map((a) => a.personId)).size,
    changed,
    reviews: reviews.length,
    seconds: { load: (t1 - t0) / 1000, link: (t2 - t1) / 1000, write: (t3 - t2) / 1000 },
  };
}
