/**
 * The shapes of `/api/mappings` answers (files, versions, dry runs, golden tests) the workbench
 * reads, kept apart from the message types because only the workbench uses them.
 */
import type { ApiIssue } from './api-error';
import type { FhirBundle } from './api-types';

export type MappingFileKind = 'mapping' | 'rules' | 'codes' | 'other';

export interface MappingFileEntry {
  readonly path: string;
  readonly etag: string;
  readonly kind: MappingFileKind;
  readonly deployed?: { readonly version: number; readonly author: string; readonly at: string };
}

export interface MappingFileList {
  readonly version: string;
  readonly files: readonly MappingFileEntry[];
}

export interface MappingFileContent {
  readonly path: string;
  readonly content: string;
  readonly etag: string;
  readonly version?: number;
}

export interface DeployResult {
  readonly path: string;
  readonly etag: string;
  readonly version: number;
  readonly setVersion: string;
}

export interface MappingVersion {
  readonly version: number;
  readonly etag: string;
  readonly author: string;
  readonly at: string;
  readonly action: 'baseline' | 'deploy' | 'rollback';
}

/** Which messages a dry run maps. */
export type DryRunMessages =
  | { readonly ids: readonly string[] }
  | { readonly sender: string; readonly last: number }
  | { readonly hl7: string };

/** A jsondiffpatch delta: opaque to the console, which only formats it. */
export type JsonDelta = Record<string, unknown> | readonly unknown[];

/** How one mapping set treated one message. */
export type DryRunOutcome = 'mapped' | 'ignored' | 'failed';

export interface DryRunResult {
  readonly id?: string;
  readonly controlId?: string;
  readonly changed: boolean;
  readonly failed: boolean;
  /** The edited set's outcome and the deployed set's (the engine adds these to the contract). */
  readonly outcome?: DryRunOutcome;
  readonly deployedOutcome?: DryRunOutcome;
  readonly delta?: JsonDelta;
  readonly errors?: readonly ApiIssue[];
  /** Why the deployed set fails on it: a change that fixes the message shows as one. */
  readonly deployedErrors?: readonly ApiIssue[];
  /** Why a set ignores it (no mapping for its type and event). */
  readonly ignored?: string;
  readonly output?: FhirBundle;
  readonly deployedOutput?: FhirBundle;
}

export interface DryRunSummary {
  readonly changed: number;
  readonly unchanged: number;
  readonly failed: number;
}

export interface DryRunAnswer {
  readonly results: readonly DryRunResult[];
  readonly summary: DryRunSummary;
}

export interface GoldenTestResult {
  readonly name: string;
  readonly status: 'pass' | 'fail';
  readonly differences: readonly unknown[];
}

export interface GoldenTestAnswer {
  readonly results: readonly GoldenTestResult[];
  readonly summary: { readonly passed: number; readonly failed: number };
}
