/**
 * Where the timeline's data comes from: the engine's `$everything` and its inbox search, read with
 * the engine token. An interface so the screen can be rendered from a fixture in tests, with no
 * network and no session.
 */
import type { Bundle } from '../fhir/fhir-resources';

export interface TimelineSource {
  /** `GET /fhir/Patient/<id>/$everything`: every facility's records of the person. */
  everything(patientId: string, signal?: AbortSignal): Promise<Bundle>;
  /** `GET /fhir/Communication?patient=...`: the inbox notices about these patient records. */
  inbox(patientIds: readonly string[], signal?: AbortSignal): Promise<Bundle>;
}
