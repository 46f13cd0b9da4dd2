/**
 * Where other modules (notifications) add their rules to registration writes over /fhir without
 * the write routes knowing them: checks and rewrites in the transaction, reactions after commit.
 */
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';

/** One objection of a rule, answered as a 422 OperationOutcome issue. */
export interface RegistrationIssue {
  /** FHIRPath of the element, e.g. `Endpoint.address`. */
  readonly expression: string;
  readonly message: string;
  /** OperationOutcome issue code. @defaultValue `business-rule` */
  readonly code?: string;
}

/** A registration write as the hooks see it. */
export interface RegistrationWrite {
  readonly type: string;
  readonly id: string;
  /** The body about to be stored; undefined on delete. */
  readonly body: JsonObject | undefined;
  /** The current content; undefined when there is none (never stored, or deleted). */
  readonly previous: JsonObject | undefined;
  /** The client writing (`AccessContext.clientId`). */
  readonly clientId: string;
}

/** What a `beforeWrite` rule decides: another body to store, or objections (422, nothing stored). */
export interface RegistrationDecision {
  readonly body?: JsonObject;
  readonly issues?: readonly RegistrationIssue[];
}

/** A version a registration write committed. */
export interface RegistrationCommit {
  readonly type: string;
  readonly id: string;
  readonly versionId: string;
  /** The stored body; undefined for a deletion. */
  readonly body: JsonObject | undefined;
}

export interface RegistrationHooks {
  /**
   * Called in the write transaction before storing, after validation and the store's own checks;
   * may rewrite the body (e.g. strip a secret) or refuse with issues (422). Writes it makes in
   * `tx` commit or roll back with the resource.
   */
  beforeWrite?(tx: Queryable, w: RegistrationWrite): Promise<RegistrationDecision>;
  /** Called after commit (fire-and-forget allowed, must not throw). Not called when nothing changed. */
  afterCommit?(w: RegistrationCommit): void;
}
