/**
 * Turns the population into a plausible stream of events: each patient moves through visits
 * (ED visit, admission, transfers, updates, lab results, discharge, occasionally death) so the
 * messages for one patient arrive in an order a real hospital could produce.
 */
import { drawLabValue, LAB_PANELS } from './lab-panels';
import {
  Disposition,
  renderAdt,
  renderOru,
  type AdtEvent,
  type BedLocation,
  type Encounter,
  type Hl7Version,
} from './message-templates';
import type { Facility, Patient, Population } from './patient-population';
import { createRandom, deriveSeed, type Random } from './seeded-random';

export interface FeedOptions {
  readonly population: Population;
  readonly seed: number | string;
  /** Goes into every MSH-10 so that two runs never share a control ID. */
  readonly runId: string;
  /** This feed's stream (one per connection); it owns patients with index % streams === stream. */
  readonly stream: number;
  readonly streams: number;
  /** Simulated clock start. */
  readonly start: Date;
}

/** One rendered message. */
export interface FeedMessage {
  readonly text: string;
  readonly controlId: string;
  /** e.g. `ADT^A01`, for the report. */
  readonly kind: string;
}

type PatientState =
  | { readonly kind: 'home' }
  | { readonly kind: 'visit'; readonly facility: Facility; encounter: Encounter; results: number }
  | { readonly kind: 'deceased' };

/** Yields messages forever; the caller bounds the count. */
export interface Feed {
  next(): FeedMessage;
}

const DIAGNOSES = [
  { code: 'I21.4', display: 'Non-ST elevation myocardial infarction' },
  { code: 'J18.9', display: 'Pneumonia, unspecified organism' },
  { code: 'I50.9', display: 'Heart failure, unspecified' },
  { code: 'N39.0', display: 'Urinary tract infection, site not specified' },
  { code: 'E11.65', display: 'Type 2 diabetes mellitus with hyperglycemia' },
  { code: 'S72.001A', display: 'Fracture of unspecified part of neck of right femur' },
  { code: 'R07.9', display: 'Chest pain, unspecified' },
  { code: 'J44.1', display: 'Chronic obstructive pulmonary disease with acute exacerbation' },
] as const;

const SERVICES = ['MED', 'SUR', 'CAR', 'PUL', 'ORT'] as const;

/**
 * Creates one stream's feed.
 * @param options - population, seed, stream and clock.
 */
export function createFeed(options: FeedOptions): Feed {
  const random = createRandom(deriveSeed(options.seed, `feed-${options.stream}`));
  const mine = options.population.patients.filter((p) => p.index % options.streams === options.stream);
  if (mine.length === 0) {
    throw new RangeError(`stream ${options.stream} has no patients: use fewer connections than patients`);
  }
  const states = new Map<number, PatientState>(mine.map((p) => [p.index, { kind: 'home' }]));
  let clock = options.start.getTime();
  let seq = 0;
  let deceased = 0;
  // Most messages continue an open visit: hospitals send many messages per stay, few per person.
  const inVisit = createPatientSet();
  return {
    next(): FeedMessage {
      clock += random.int(5, 90) * 1000;
      seq++;
      const controlId = `${options.runId}.${options.stream}.${seq}`;
      const patient =
        inVisit.size() > 0 && random.chance(0.75) ? inVisit.pick(random) : pickLiving(mine, states, random);
      const state = states.get(patient.index) ?? { kind: 'home' };
      const ctx: StepContext = {
        patient,
        random,
        now: new Date(clock),
        controlId,
        population: options.population,
      };
      const step =
        state.kind === 'visit' ? continueVisit(state, ctx, deceased < mine.length / 10) : startVisit(ctx);
      if (step.next.kind === 'deceased') deceased++;
      states.set(patient.index, step.next);
      if (step.next.kind === 'visit') inVisit.add(patient);
      else inVisit.delete(patient);
      return { text: step.text, controlId, kind: step.kind };
    },
  };
}

interface StepContext {
  readonly patient: Patient;
  readonly random: Random;
  readonly now: Date;
  readonly controlId: string;
  readonly population: Population;
}

interface Step {
  readonly text: string;
  readonly kind: string;
  readonly next: PatientState;
}

/** A set of patients that can also hand out a random member in O(1). */
function createPatientSet(): {
  size(): number;
  add(p: Patient): void;
  delete(p: Patient): void;
  pick(random: Random): Patient;
} {
  const items: Patient[] = [];
  const positions = new Map<number, number>();
  return {
    size: () => items.length,
    add(p) {
      if (positions.has(p.index)) return;
      positions.set(p.index, items.length);
      items.push(p);
    },
    delete(p) {
      const at = positions.get(p.index);
      const last = items.pop();
      if (at === undefined || last === undefined) {
        if (last !== undefined) items.push(last);
        return;
      }
      positions.delete(p.index);
      if (last.index !== p.index) {
        items[at] = last;
        positions.set(last.index, at);
      }
    },
    pick: (random) => random.pick(items),
  };
}

function pickLiving(
  patients: readonly Patient[],
  states: Map<number, PatientState>,
  random: Random,
): Patient {
  for (let attempt = 0; attempt < 20; attempt++) {
    const p = random.pick(patients);
    if (states.get(p.index)?.kind !== 'deceased') return p;
  }
  const living = patients.find((p) => states.get(p.index)?.kind !== 'deceased');
  if (living === undefined) throw new Error('every simulated patient has died: use a larger --patients');
  return living;
}

function startVisit(ctx: StepContext): Step {
  const { random, patient, population } = ctx;
  const facility = random.chance(0.8)
    ? (population.facilities[patient.homeFacility] ?? random.pick(population.facilities))
    : random.pick(population.facilities);
  const roll = random.next();
  const patientClass = roll < 0.5 ? 'E' : roll < 0.65 ? 'I' : 'O';
  const encounter: Encounter = {
    visitNumber: `V${random.digits(9)}`,
    patientClass,
    location:
      patientClass === 'E'
        ? { unit: 'ED', room: `ED${random.int(1, 40)}`, bed: '1' }
        : patientClass === 'I'
          ? bed(facility, random)
          : { unit: 'OPLAB', room: '1', bed: '1' },
    attending: random.pick(facility.physicians),
    hospitalService: patientClass === 'E' ? 'EM' : patientClass === 'I' ? random.pick(SERVICES) : 'LAB',
    admittedAt: ctx.now,
    ...(patientClass === 'O' ? {} : { diagnosis: random.pick(DIAGNOSES) }),
  };
  const event: AdtEvent = patientClass === 'I' ? 'A01' : 'A04';
  return adtStep(ctx, facility, event, encounter, { kind: 'visit', facility, encounter, results: 0 });
}

function continueVisit(
  state: Extract<PatientState, { kind: 'visit' }>,
  ctx: StepContext,
  deathAllowed: boolean,
): Step {
  const { random } = ctx;
  const enc = state.encounter;
  const roll = random.next();
  if (enc.patientClass === 'O') {
    return state.results === 0 ? labStep(ctx, state) : discharge(ctx, state, Disposition.Home);
  }
  if (roll < 0.35) return labStep(ctx, state);
  if (roll < 0.45) {
    return adtStep(
      ctx,
      state.facility,
      'A08',
      { ...enc, attending: random.pick(state.facility.physicians) },
      state,
    );
  }
  if (enc.patientClass === 'E' && roll < 0.7) {
    const admitted: Encounter = {
      ...enc,
      patientClass: 'I',
      location: bed(state.facility, random),
      hospitalService: random.pick(SERVICES),
    };
    return adtStep(ctx, state.facility, 'A01', admitted, state);
  }
  if (enc.patientClass === 'I' && roll < 0.6) {
    const moved: Encounter = { ...enc, priorLocation: enc.location, location: bed(state.facility, random) };
    return adtStep(ctx, state.facility, 'A02', moved, state);
  }
  return discharge(ctx, state, chooseDisposition(enc, random, deathAllowed));
}

function chooseDisposition(enc: Encounter, random: Random, deathAllowed: boolean): Disposition {
  const roll = random.next();
  if (enc.patientClass === 'E') return roll < 0.93 ? Disposition.Home : Disposition.LeftAma;
  if (deathAllowed && roll < 0.04) return Disposition.Expired;
  if (roll < 0.6) return Disposition.Home;
  if (roll < 0.75) return Disposition.HomeHealth;
  if (roll < 0.92) return Disposition.SkilledNursing;
  return Disposition.ShortTermHospital;
}

function discharge(
  ctx: StepContext,
  state: Extract<PatientState, { kind: 'visit' }>,
  disposition: Disposition,
): Step {
  const enc: Encounter = { ...state.encounter, dischargedAt: ctx.now, disposition };
  return adtStep(
    ctx,
    state.facility,
    'A03',
    enc,
    disposition === Disposition.Expired ? { kind: 'deceased' } : { kind: 'home' },
  );
}

function adtStep(
  ctx: StepContext,
  facility: Facility,
  event: AdtEvent,
  encounter: Encounter,
  next: PatientState,
): Step {
  const text = renderAdt({
    event,
    encounter,
    facility,
    patient: ctx.patient,
    controlId: ctx.controlId,
    sentAt: ctx.now,
    version: '2.5.1',
  });
  const updated: PatientState = next.kind === 'visit' ? { ...next, encounter } : next;
  return { text, kind: `ADT^${event}`, next: updated };
}

function labStep(ctx: StepContext, state: Extract<PatientState, { kind: 'visit' }>): Step {
  const { random, now } = ctx;
  const panel = random.pick(LAB_PANELS);
  const version: Hl7Version = state.facility.labVersion;
  const collected = new Date(
    Math.max(state.encounter.admittedAt.getTime(), now.getTime() - random.int(20, 90) * 60_000),
  );
  const ordering = state.encounter.patientClass === 'O' ? ctx.patient.pcp : state.encounter.attending;
  const text = renderOru({
    facility: state.facility,
    patient: ctx.patient,
    encounter: state.encounter,
    controlId: ctx.controlId,
    sentAt: now,
    version,
    panel,
    values: panel.analytes.map((a) => drawLabValue(a, random)),
    orderNumber: random.digits(10),
    orderingProvider: ordering,
    collectedAt: collected,
  });
  return { text, kind: 'ORU^R01', next: { ...state, results: state.results + 1 } };
}

function bed(facility: Facility, random: Random): BedLocation {
  const unit = random.pick(facility.units);
  return { unit, room: String(random.int(100, 499)), bed: random.pick(['A', 'B']) };
}
