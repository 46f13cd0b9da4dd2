/**
 * The patient banner, shown only when the EHR says its frame does not show the patient
 * (`need_patient_banner`): name, birth date, sex and the record numbers, so the PCP knows whose
 * timeline this is.
 */
import type { ReactElement } from 'react';
import type { Patient } from '../fhir/fhir-resources';
import { humanNameText } from '../timeline/fhir-text';
import { formatFhirTime } from '../timeline/format-time';
import type { PatientRecord } from '../timeline/timeline-types';

export interface BannerPatient {
  readonly name?: string;
  readonly birthDate?: string;
  readonly gender?: string;
  readonly identifiers: readonly string[];
}

/** The banner's fields from the EHR's Patient (preferred: it is the EHR's own record). */
export function bannerFromEhr(p: Patient): BannerPatient {
  const name = humanNameText(p.name);
  const mrns = (p.identifier ?? []).flatMap((i) =>
    i.value !== undefined && (i.type?.coding ?? []).some((c) => c.code === 'MR') ? [i.value] : [],
  );
  return {
    ...(name !== undefined ? { name } : {}),
    ...(p.birthDate !== undefined ? { birthDate: p.birthDate } : {}),
    ...(p.gender !== undefined ? { gender: p.gender } : {}),
    identifiers: mrns,
  };
}

/** The banner's fields from the engine's matched record, when the EHR's cannot be read. */
export function bannerFromRecord(r: PatientRecord): BannerPatient {
  return {
    ...(r.name !== undefined ? { name: r.name } : {}),
    ...(r.birthDate !== undefined ? { birthDate: r.birthDate } : {}),
    ...(r.gender !== undefined ? { gender: r.gender } : {}),
    identifiers: r.identifiers,
  };
}

export function PatientBanner({ patient }: { readonly patient: BannerPatient | undefined }): ReactElement {
  return (
    <section className="banner" aria-label="Patient">
      {patient === undefined ? (
        <p>Patient details are loading…</p>
      ) : (
        <p>
          <strong className="banner-name">{patient.name ?? 'Unnamed patient'}</strong>
          {patient.birthDate !== undefined ? <span>Born {formatFhirTime(patient.birthDate)}</span> : null}
          {patient.gender !== undefined ? <span>{patient.gender}</span> : null}
          {patient.identifiers.length > 0 ? <span>MRN {patient.identifiers.join(', ')}</span> : null}
        </p>
      )}
    </section>
  );
}
