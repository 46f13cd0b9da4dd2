/**
 * The linking step: after the store wrote a message's Patients, each changed (or never linked)
 * Patient gets its person, in the processing transaction. So a crash can never leave a stored
 * record unlinked (the redo relinks it), a replay that changes nothing links nothing, and a
 * merge joins the two persons in the same commit that marks the record merged.
 */
import type { IdentitySettings } from '../config/schema';
import type { ResourceChange } from '../store/bundle-hooks';
import type { Queryable } from '../store/db';
import { asList, asString, field, type JsonObject } from '../store/fhir-json';
import { blockingKeys } from './blocking-keys';
import { demographicsOf, type Demographics } from './demographics';
import {
  addOrderKeys,
  linkedWithKeys,
  createPersonFor,
  demographicsHash,
  moveMembers,
  readLinkState,
  readRecord,
  setLinkReason,
  writeLink,
  type IdentityRecord,
  type LinkWrite,
  type RecordWrite,
} from './identity-store';
import { closeReviewsByMerge, recordDecision } from './review-store';
import { IdentityConflictError } from './identity-error';
import { CERTAIN_REASONS, decideLink, type ReviewCandidate } from './link-decision';
import type { Thresholds } from './match-model';
import { survivorOf } from './patient-merge';
import { RELINK_LOCK } from './relink-lock';
import { hashResourceId } from '../mapping/resource-id';

/** The identity settings in the form the rules use, built once. */
export interface IdentityRules {
  readonly thresholds: Thresholds;
  readonly certainTypes: ReadonlySet<string>;
}

export function identityRules(s: IdentitySettings): IdentityRules {
  return {
    thresholds: { link: s.linkThreshold, review: s.reviewThreshold },
    certainTypes: new Set(s.certainIdentifierTypes),
  };
}

/** What linking did to one record. */
export interface LinkResult {
  readonly patientId: string;
  readonly personId: string;
  readonly action: 'unchanged' | 'founded' | 'joined' | 'stayed' | 'left' | 'merged';
  readonly reviews: number;
}

export interface LinkContext {
  /** Message patient keys that reach this record (`MSH-4|PID-3.1`), for per-person order. */
  readonly orderKeys: readonly string[];
  readonly messageId?: string;
  /**
   * Decide again although the demographics are unchanged (the sweep's second look at a record
   * that founded its person while a matching record was being linked in another transaction).
   */
  readonly recheck?: boolean;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

function reviewRows(patientId: string, reviews: readonly ReviewCandidate[]) {
  return reviews.map((r) => ({
    a: patientId,
    b: r.patientId,
    weight: r.score.weight,
    reason: r.reason,
    breakdown: { fields: r.score.fields, veto: r.score.veto ?? null },
  }));
}

/** Links one stored Patient. Throws IdentityConflictError (transient) on a concurrent change. */
export async function linkPatient(
  tx: Queryable,
  patient: JsonObject,
  rules: IdentityRules,
  ctx: LinkContext,
): Promise<LinkResult> {
  const d = demographicsOf(patient);
  const blockKeys = blockingKeys(d, rules.certainTypes);
  const freshPersonId = hashResourceId('Person', [d.patientId]);
  const state = await readLinkState(tx, d, {
    relinkLock: RELINK_LOCK,
    blockKeys,
    freshPersonId,
    recheck: ctx.recheck === true,
  });
  const { previous } = state;
  const orderKeys = union(previous?.orderKeys ?? [], ctx.orderKeys);
  const survivor = survivorOf(patient);
  if (survivor !== undefined && survivor !== d.patientId) {
    return mergeInto(tx, d, previous, survivor, orderKeys, rules, ctx);
  }
  const unchanged = previous !== undefined && previous.demographicsHash === demographicsHash(d);
  if (unchanged && ctx.recheck !== true) {
    if (orderKeys.length !== previous.orderKeys.length) await addOrderKeys(tx, d.patientId, orderKeys);
    return { patientId: d.patientId, personId: previous.personId, action: 'unchanged', reviews: 0 };
  }
  const members =
    previous === undefined
      ? []
      : state.candidates.filter(
          (c) => c.personId === previous.personId && c.demographics.patientId !== d.patientId,
        );
  const decision = decideLink({
    record: d,
    ...(previous !== undefined
      ? { current: { personId: previous.personId, reason: previous.reason, members } }
      : {}),
    candidates: state.candidates,
    separated: state.separated,
    certainTypes: rules.certainTypes,
    thresholds: rules.thresholds,
    frequencies: state.frequencies,
  });
  if (unchanged && decision.kind === 'stay') {
    return { patientId: d.patientId, personId: previous.personId, action: 'unchanged', reviews: 0 };
  }
  const person =
    decision.kind === 'join'
      ? decision.personId
      : decision.kind === 'stay' && previous !== undefined
        ? previous.personId
        : state.freshPersonIdFree
          ? freshPersonId
          : await createPersonFor(tx, d.patientId);
  const founds = decision.kind !== 'join' && person !== previous?.personId;
  const record: RecordWrite =
    decision.kind === 'join'
      ? {
          demographics: d,
          blockKeys,
          orderKeys,
          personId: person,
          reason: decision.reason,
          assurance: decision.assurance,
          evidence: { patientId: decision.evidence.patientId, weight: decision.evidence.score.weight },
        }
      : founds || previous === undefined
        ? { demographics: d, blockKeys, orderKeys, personId: person, reason: 'founder', assurance: 'level4' }
        : {
            demographics: d,
            blockKeys,
            orderKeys,
            personId: person,
            reason: previous.reason,
            assurance: previous.assurance,
          };
  const leaving = previous !== undefined && previous.personId !== person;
  await writeLinked(tx, {
    record,
    previous,
    bump: founds ? [] : [person],
    ...(founds && person === freshPersonId && state.freshPersonIdFree ? { createPerson: person } : {}),
    ...(leaving
      ? {
          leave: { personId: previous.personId, ...(decision.kind === 'join' ? { mergedInto: person } : {}) },
        }
      : {}),
    reviews: reviewRows(d.patientId, decision.reviews),
  });
  const action =
    decision.kind === 'join' ? 'joined' : founds ? (previous === undefined ? 'founded' : 'left') : 'stayed';
  return { patientId: d.patientId, personId: person, action, reviews: decision.reviews.length };
}

/** Writes a link; a person of `bump` retired meanwhile fails the attempt (it retries). */
async function writeLinked(tx: Queryable, w: LinkWrite): Promise<void> {
  const live = await writeLink(tx, w);
  if (live < new Set(w.bump).size) {
    throw new IdentityConflictError(`a person of ${w.record.demographics.patientId} changed while linking`);
  }
}

/**
 * A merged record (A40 and kin) joins its survivor's person, bringing the rest of its own
 * person along: a facility saying two of its records are one patient makes their persons one.
 */
async function mergeInto(
  tx: Queryable,
  d: Demographics,
  previous: IdentityRecord | undefined,
  survivorId: string,
  orderKeys: readonly string[],
  rules: IdentityRules,
  ctx: LinkContext,
): Promise<LinkResult> {
  let survivor = await readRecord(tx, survivorId);
  if (survivor === undefined) {
    const [row] = await tx.query<{ resource: JsonObject }>(
      `SELECT resource FROM fhir_resources WHERE resource_type = 'Patient' AND id = $1 AND NOT deleted`,
      [survivorId],
    );
    if (row !== undefined && survivorOf(row.resource) === undefined) {
      await linkPatient(tx, row.resource, rules, { orderKeys: [] });
      survivor = await readRecord(tx, survivorId);
    }
  }
  if (survivor === undefined) {
    // The survivor is not stored (a merge naming a patient never sent): keep the record on its own.
    const own = previous?.personId ?? (await createPersonFor(tx, d.patientId));
    const blockKeys = blockingKeys(d, rules.certainTypes);
    await writeLinked(tx, {
      record: {
        demographics: d,
        personId: own,
        reason: 'founder',
        assurance: 'level4',
        blockKeys,
        orderKeys,
      },
      previous,
      bump: previous === undefined ? [] : [own],
      reviews: [],
    });
    return {
      patientId: d.patientId,
      personId: own,
      action: previous === undefined ? 'founded' : 'stayed',
      reviews: 0,
    };
  }
  const target = survivor.personId;
  const from = previous?.personId;
  const already =
    previous?.reason === 'merge' && from === target && previous.demographicsHash === demographicsHash(d);
  if (already && orderKeys.length === previous.orderKeys.length) {
    return { patientId: d.patientId, personId: target, action: 'unchanged', reviews: 0 };
  }
  const moving = from !== undefined && from !== target;
  if (moving) await moveMembers(tx, from, target);
  await writeLinked(tx, {
    record: {
      demographics: d,
      personId: target,
      reason: 'merge',
      assurance: 'level4',
      blockKeys: blockingKeys(d, rules.certainTypes),
      orderKeys,
      evidence: { patientId: survivorId },
    },
    previous,
    bump: [target],
    // Its records moved to the target above, so the person it leaves is empty and retires.
    ...(moving ? { leave: { personId: from, mergedInto: target } } : {}),
    reviews: [],
  });
  // The merge links the pair both ways: a survivor left to its score would leave the person
  // (its merged record, inactive, is no evidence) on its next update, and the merge with it.
  if (!CERTAIN_REASONS.has(survivor.reason)) await setLinkReason(tx, survivorId, 'merge', 'level4');
  if (!already) {
    await recordDecision(tx, {
      a: d.patientId,
      b: survivorId,
      decision: 'link',
      source: 'merge',
      ...(ctx.messageId !== undefined ? { messageId: ctx.messageId } : {}),
    });
    await closeReviewsByMerge(tx, d.patientId, survivorId, ctx.messageId);
  }
  return { patientId: d.patientId, personId: target, action: 'merged', reviews: 0 };
}

/**
 * Links every Patient a bundle created or changed, survivors before merged records. `orderKeys`
 * are the message's patient keys; a record takes the key whose id part is its first MRN.
 */
export async function linkChangedPatients(
  tx: Queryable,
  changes: readonly ResourceChange[],
  rules: IdentityRules,
  message: { readonly id: string; readonly orderKeys: readonly string[] },
): Promise<LinkResult[]> {
  const patients = changes
    .filter((c) => c.type === 'Patient' && c.current !== undefined && !c.current.deleted)
    .filter((c) => c.outcome !== 'out-of-order')
    .map((c) => ({
      patient: { ...(c.current?.resource ?? {}), id: c.id },
      unchanged: c.outcome === 'unchanged',
    }))
    .sort(
      (a, b) => Number(survivorOf(a.patient) !== undefined) - Number(survivorOf(b.patient) !== undefined),
    );
  const out: LinkResult[] = [];
  for (const { patient, unchanged } of patients) {
    const orderKeys = keysOf(patient, message.orderKeys);
    // Most messages repeat a Patient the store already holds as it is: when its record exists and
    // already knows these keys, there is nothing to decide, and one index lookup says so.
    const known = unchanged ? await linkedWithKeys(tx, patient['id'], orderKeys) : undefined;
    out.push(
      known !== undefined
        ? { patientId: patient['id'], personId: known, action: 'unchanged', reviews: 0 }
        : await linkPatient(tx, patient, rules, { orderKeys, messageId: message.id }),
    );
  }
  return out;
}

/** The message keys whose id part is one of the Patient's identifier values. */
function keysOf(patient: JsonObject, keys: readonly string[]): string[] {
  const values = new Set(asList(patient['identifier']).map((i) => asString(field(i, 'value'))?.trim()));
  return keys.filter((k) => values.has(k.slice(k.indexOf('|') + 1)));
}
