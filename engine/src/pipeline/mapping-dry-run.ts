/**
 * The dry run: what a mapping change would do to real messages before it is deployed. Each
 * message is mapped with the deployed set and with the candidate set in the same context (its
 * archive id and receipt time), and the two outputs are compared with jsondiffpatch. Nothing is
 * stored and nothing is sent: this is mapping only, no store, no identity, no events.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { create, type Delta } from 'jsondiffpatch';
import { parseHl7, type Hl7Message } from '../hl7/parse-message';
import type { OperationOutcomeIssue } from '../fhir/operation-outcome';
import { mapMessage, type MapContext, type TransactionBundle } from '../mapping/map-message';
import type { MappingSet } from '../mapping/mapping-types';
import { describeError } from '../observability/describe-error';

/** One message to try. */
export interface DryRunMessage {
  /** Archive id; absent for a pasted message. */
  readonly id?: string;
  readonly controlId?: string;
  /** The message text (decoded per MSH-18 for archived ones). */
  readonly text: string;
  /** FHIR instant the message was received (or, pasted, the time of the run). */
  readonly receivedAt: string;
  /** The message could not be read (an id not archived): reported failed with this. */
  readonly unreadable?: OperationOutcomeIssue;
}

/** How one set treated one message. */
export type DryRunOutcome = 'mapped' | 'ignored' | 'failed';

/** What the change does to one message. */
export interface DryRunResult {
  readonly id?: string;
  readonly controlId?: string;
  /** The candidate's output differs from the deployed one (a different failure included). */
  readonly changed: boolean;
  /** The candidate set cannot map the message. */
  readonly failed: boolean;
  readonly outcome: DryRunOutcome;
  readonly deployedOutcome: DryRunOutcome;
  /**
   * jsondiffpatch delta from the deployed output to the candidate's, when changed and both sets
   * came to the same outcome (mapped and mapped, or failed and failed).
   */
  readonly delta?: Delta;
  /** Why the candidate failed: OperationOutcome issues with the HL7 location and rule. */
  readonly errors?: readonly OperationOutcomeIssue[];
  /** Why the deployed set fails on it (so a change that fixes a message shows as one). */
  readonly deployedErrors?: readonly OperationOutcomeIssue[];
  /** Why a set ignores it (no mapping for its type and event). */
  readonly ignored?: string;
  /** The candidate's Bundle, when few messages were asked for. */
  readonly output?: TransactionBundle;
  readonly deployedOutput?: TransactionBundle;
}

export interface DryRunSummary {
  /** Not failed, and the output differs. */
  readonly changed: number;
  /** Not failed, and the output is the same. */
  readonly unchanged: number;
  /** The candidate set cannot map it. */
  readonly failed: number;
}

export interface DryRunReport {
  readonly results: readonly DryRunResult[];
  readonly summary: DryRunSummary;
}

export interface DryRunOptions {
  /** The engine's DEFAULT_TIMEZONE, for senders whose `sender.yaml` names no zone. */
  readonly defaultTimezone: string;
  /** Put both Bundles on each result. @defaultValue false */
  readonly includeOutputs?: boolean;
  /** Messages mapped between yields to the event loop, so ACKs keep flowing. @defaultValue 50 */
  readonly yieldEvery?: number;
}

type Mapped =
  | { readonly outcome: 'mapped'; readonly bundle: TransactionBundle }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'failed'; readonly issues: readonly OperationOutcomeIssue[] };

/**
 * Entries are matched by `fullUrl` (resourceType/id, deterministic per message), so an entry
 * added or removed shows as that, not as every later entry changing; other arrays by position.
 */
const differ = create({
  objectHash: (item: object, index?: number): string => {
    const o = item as { fullUrl?: unknown; resourceType?: unknown; id?: unknown };
    if (typeof o.fullUrl === 'string') return o.fullUrl;
    if (typeof o.resourceType === 'string' && typeof o.id === 'string') return `${o.resourceType}/${o.id}`;
    return `$$index:${index ?? 0}`;
  },
  arrays: { detectMove: false },
});

/** The issues a thrown mapping or parse failure stands for. */
function issuesOf(err: unknown): readonly OperationOutcomeIssue[] {
  const outcome = (err as { outcome?: { issue?: unknown } } | undefined)?.outcome;
  if (outcome !== undefined && Array.isArray(outcome.issue)) return outcome.issue as OperationOutcomeIssue[];
  const { code, message } = describeError(err);
  return [{ severity: 'error', code: 'processing', diagnostics: `${message} [${code}]` }];
}

/** Entries in `fullUrl` order: the order a mapping emits them in is no change to the data. */
function canonical(bundle: TransactionBundle): TransactionBundle {
  return { ...bundle, entry: [...bundle.entry].sort((a, b) => (a.fullUrl < b.fullUrl ? -1 : 1)) };
}

function mapWith(parsed: Hl7Message, set: MappingSet, ctx: MapContext): Mapped {
  try {
    const r = mapMessage(parsed, set, ctx);
    return r.status === 'mapped'
      ? { outcome: 'mapped', bundle: canonical(r.bundle) }
      : { outcome: 'ignored', reason: r.reason };
  } catch (err) {
    return { outcome: 'failed', issues: issuesOf(err) };
  }
}

/** What is compared: the Bundle, or why there is none. */
function comparable(m: Mapped): unknown {
  switch (m.outcome) {
    case 'mapped':
      return m.bundle;
    case 'ignored':
      return { ignored: m.reason };
    case 'failed':
      return { failed: m.issues };
  }
}

/** Maps one message both ways and compares. */
export function dryRunOne(
  message: DryRunMessage,
  deployed: MappingSet,
  candidate: MappingSet,
  defaultTimezone: string,
  includeOutputs = false,
): DryRunResult {
  const ctx: MapContext = {
    messageId: message.id ?? 'dry-run',
    receivedAt: message.receivedAt,
    defaultTimezone,
  };
  let before: Mapped;
  let after: Mapped;
  if (message.unreadable !== undefined) {
    before = after = { outcome: 'failed', issues: [message.unreadable] };
  } else {
    try {
      const parsed = parseHl7(message.text);
      before = mapWith(parsed, deployed, ctx);
      after = mapWith(parsed, candidate, ctx);
    } catch (err) {
      before = after = { outcome: 'failed', issues: issuesOf(err) };
    }
  }
  const left = comparable(before);
  const right = comparable(after);
  const changed = JSON.stringify(left) !== JSON.stringify(right);
  // A Bundle against a failure would be a delta as large as the Bundle, saying no more than the
  // two outcomes and the errors do: a delta only compares like with like.
  const delta = changed && before.outcome === after.outcome ? differ.diff(left, right) : undefined;
  return {
    ...(message.id !== undefined ? { id: message.id } : {}),
    ...(message.controlId !== undefined ? { controlId: message.controlId } : {}),
    changed,
    failed: after.outcome === 'failed',
    outcome: after.outcome,
    deployedOutcome: before.outcome,
    ...(delta !== undefined ? { delta } : {}),
    ...(after.outcome === 'failed' ? { errors: after.issues } : {}),
    ...(before.outcome === 'failed' ? { deployedErrors: before.issues } : {}),
    ...(after.outcome === 'ignored' ? { ignored: after.reason } : {}),
    ...(includeOutputs && after.outcome === 'mapped' ? { output: after.bundle } : {}),
    ...(includeOutputs && before.outcome === 'mapped' ? { deployedOutput: before.bundle } : {}),
  };
}

/**
 * Runs every message through both sets.
 * @param batches - the messages, a batch at a time (archive pages), so 10,000 are never all
 *   decoded at once.
 */
export async function dryRunMappings(
  batches: AsyncIterable<readonly DryRunMessage[]> | Iterable<readonly DryRunMessage[]>,
  deployed: MappingSet,
  candidate: MappingSet,
  options: DryRunOptions,
): Promise<DryRunReport> {
  const yieldEvery = options.yieldEvery ?? 50;
  const results: DryRunResult[] = [];
  let changed = 0;
  let unchanged = 0;
  let failed = 0;
  let sinceYield = 0;
  for await (const batch of batches) {
    for (const message of batch) {
      const r = dryRunOne(
        message,
        deployed,
        candidate,
        options.defaultTimezone,
        options.includeOutputs === true,
      );
      results.push(r);
      if (r.failed) failed++;
      else if (r.changed) changed++;
      else unchanged++;
      // Mapping is CPU only: without a pause a large run would hold up the MLLP listener's ACKs.
      if (++sinceYield >= yieldEvery) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
  }
  return { results, summary: { changed, unchanged, failed } };
}
