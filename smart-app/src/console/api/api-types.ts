/**
 * The shapes of the engine's console and /api answers the console reads (the contract of issue
 * 12), in one place so a change to an endpoint is one edit here and a type error at each use.
 */
import type { ApiIssue } from './api-error';

export type ConsoleRole = 'analyst' | 'admin';

export interface SignInMethods {
  readonly password: boolean;
  readonly oidc: boolean;
}

export type ConsoleSession =
  | { readonly signedIn: false; readonly methods: SignInMethods }
  | {
      readonly signedIn: true;
      readonly user: { readonly name: string; readonly role: ConsoleRole };
      readonly csrfToken: string;
      readonly expiresAt: string;
      readonly methods: SignInMethods;
    };

export type MessageStatus = 'received' | 'processed' | 'ignored' | 'failed' | 'rejected';

export const MESSAGE_STATUSES: readonly MessageStatus[] = [
  'received',
  'processed',
  'ignored',
  'failed',
  'rejected',
];

export interface MessageSummary {
  readonly id: string;
  readonly sender: string | null;
  readonly controlId: string | null;
  readonly type: string | null;
  readonly version: string | null;
  readonly status: MessageStatus;
  readonly receivedAt: string;
  readonly processingMs: number | null;
  readonly duplicates: number;
  readonly errorCode: string | null;
  readonly patientKey: string | null;
  readonly patientName: string | null;
}

export interface MessagePage {
  readonly messages: readonly MessageSummary[];
  readonly next?: string;
}

/** One HL7 field, component or repetition with its V2-to-FHIR label and decoded text. */
export interface LabelledValue {
  readonly position: string;
  readonly label?: string;
  readonly value: string;
  readonly components?: readonly LabelledValue[];
  readonly repetitions?: readonly LabelledValue[];
}

export interface MessageSegment {
  readonly name: string;
  readonly index: number;
  readonly fields: readonly LabelledValue[];
}

export interface MessageNotification {
  readonly id: string;
  readonly event: string;
  readonly channel: string;
  readonly status: string;
  readonly target: string;
  readonly attempts: number;
  readonly lastError?: string;
  readonly deliveredAt?: string;
}

export interface MessageIssue {
  readonly severity: string;
  readonly code: string;
  readonly diagnostics?: string;
  readonly expression?: readonly string[];
  readonly rule?: string;
}

export interface FhirBundle {
  readonly resourceType: 'Bundle';
  readonly entry?: readonly { readonly resource?: Record<string, unknown> }[];
}

export interface MessageDetail {
  readonly id: string;
  readonly sender: string | null;
  readonly controlId: string | null;
  readonly type: string | null;
  readonly version?: string | null;
  readonly status: MessageStatus;
  readonly receivedAt: string;
  readonly processingMs?: number | null;
  readonly duplicates?: number;
  readonly error?: unknown;
  readonly mappingVersion?: string | number | null;
  readonly mappingFile?: string | null;
  readonly raw?: string;
  readonly fhir?: FhirBundle;
  readonly segments?: readonly MessageSegment[];
  readonly notifications?: readonly MessageNotification[];
  readonly issues?: readonly MessageIssue[];
}

export interface ErrorGroup {
  readonly key: string;
  readonly code: string;
  readonly message: string;
  readonly expression?: readonly string[];
  readonly rule?: string;
  readonly count: number;
  readonly senders: readonly string[];
  readonly firstAt: string;
  readonly lastAt: string;
  readonly sampleIds: readonly string[];
}

export interface ReplayStarted {
  readonly jobId: string;
  readonly total: number;
}

export type ReplayState = 'waiting' | 'active' | 'completed' | 'failed';

export interface ReplayJob {
  readonly jobId: string;
  readonly state: ReplayState;
  readonly total: number;
  readonly queued: number;
  readonly skipped: number;
  readonly failedReason?: string;
}

export interface SenderFigures {
  readonly sender: string;
  readonly received: number;
  readonly processed: number;
  readonly failed: number;
  readonly rejected: number;
  readonly ignored: number;
  readonly errorRate: number;
}

export interface QueueFigures {
  readonly name: string;
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
  readonly completed: number;
}

export interface OperationsFigures {
  readonly since: string;
  readonly senders: readonly SenderFigures[];
  readonly ack: {
    readonly count: number;
    readonly p50Ms: number | null;
    readonly p95Ms: number | null;
    readonly p99Ms: number | null;
  };
  readonly queues: readonly QueueFigures[];
  readonly deliveries: {
    readonly pending: number;
    readonly retrying: number;
    readonly delivered: number;
    readonly failed: number;
  };
}

export type { ApiIssue };
