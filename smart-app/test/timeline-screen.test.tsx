// @vitest-environment happy-dom
// The timeline screen rendered from fixture Bundles through a TimelineSource (no network): the
// full timeline with attention, legend, provenance and "new" marks; filters; the trend; the
// no-match, empty, error and ended-session states; and 500 events within the render budget.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { ReactElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionProblem } from '../src/components/session-problem';
import { TimelineScreen, type TimelineScreenProps } from '../src/components/timeline-screen';
import { EngineRequestError } from '../src/engine/engine-fhir-source';
import type { PatientMatch } from '../src/engine/exchange-response';
import type { TimelineSource } from '../src/engine/timeline-source';
import type { Bundle } from '../src/fhir/fhir-resources';
import { LaunchRequiredError, SessionExpiredError } from '../src/smart/session-errors';
import { lastLookKey } from '../src/timeline/last-look';
import { goldenBundle } from './fixtures/golden-bundle';
import { syntheticBundle } from './fixtures/synthetic-bundle';

afterEach(() => {
  cleanup();
});

const ISSUER = 'https://ehr.example/fhir';
const MATCHED: PatientMatch = {
  status: 'matched',
  records: [
    { patient: '22830ccd7032c5d2558c2da02336a8b6', facility: 'MERCY', grade: 'certain', score: 1 },
    { patient: 'a2d16e9803f216127d3eace5d49b292e', facility: 'NORTHWIND', grade: 'probable', score: 0.9 },
  ],
};
const EMPTY_INBOX: Bundle = { resourceType: 'Bundle', type: 'searchset', entry: [] };

function memoryStorage(initial: Record<string, string> = {}): Pick<Storage, 'getItem' | 'setItem'> {
  const m = new Map(Object.entries(initial));
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
}

function source(
  everything: () => Promise<Bundle>,
  inbox: () => Promise<Bundle> = () => Promise.resolve(EMPTY_INBOX),
): TimelineSource & {
  calls: string[];
} {
  const calls: string[] = [];
  return {
    calls,
    everything: (id) => {
      calls.push(`everything ${id}`);
      return everything();
    },
    inbox: (ids) => {
      calls.push(`inbox ${ids.join(',')}`);
      return inbox();
    },
  };
}

function renderScreen(
  props: Partial<TimelineScreenProps> & Pick<TimelineScreenProps, 'source'>,
): ReturnType<typeof render> {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const ui: ReactElement = (
    <QueryClientProvider client={client}>
      <TimelineScreen
        patient="22830ccd7032c5d2558c2da02336a8b6"
        match={MATCHED}
        issuer={ISSUER}
        needPatientBanner={false}
        now={Date.parse('2024-03-25T00:00:00Z')}
        lastLookStorage={memoryStorage()}
        {...props}
      />
    </QueryClientProvider>
  );
  return render(ui);
}

const SYSTEM = 'https://care-coordination.org/fhir/CodeSystem/notification-event';
const inbox: Bundle = {
  resourceType: 'Bundle',
  entry: [
    {
      resource: {
        resourceType: 'Communication',
        id: 'n1',
        category: [
          { coding: [{ system: SYSTEM, code: 'ed-arrival' }], text: 'Seen in the emergency department' },
        ],
        priority: 'routine',
        about: [{ reference: 'Encounter/c0af057e9b6b3473ad3a4164cf003201' }],
        sent: '2024-03-20T13:57:00Z',
      },
    },
    {
      resource: {
        resourceType: 'Communication',
        id: 'n2',
        category: [
          { coding: [{ system: SYSTEM, code: 'critical-result' }], text: 'Critical or abnormal result' },
        ],
        priority: 'urgent',
        about: [{ reference: 'Observation/2f035362ae43c7d19e88401b83f5df82' }],
        sent: '2024-03-05T18:32:00Z',
      },
    },
  ],
};

describe('timeline screen', () => {
  it('shows every facility’s events newest first, with attention, legend and provenance', async () => {
    const src = source(
      () => Promise.resolve(goldenBundle()),
      () => Promise.resolve(inbox),
    );
    renderScreen({ source: src });
    expect(screen.getByRole('status').textContent).toContain('Loading the timeline');
    await screen.findByRole('heading', { level: 2, name: 'Timeline' });

    expect(src.calls).toContain('everything 22830ccd7032c5d2558c2da02336a8b6');
    expect(src.calls).toContain('inbox 22830ccd7032c5d2558c2da02336a8b6,a2d16e9803f216127d3eace5d49b292e');

    const items = screen.getAllByRole('article');
    expect(items.map((a) => within(a).getByRole('heading', { level: 3 }).textContent)).toEqual([
      'Basic panel · NORTHWIND',
      'Emergency visit · NORTHWIND',
      'CBC panel · MERCY',
      'Comprehensive metabolic panel · MERCY',
      'Inpatient stay · MERCY',
    ]);
    expect(screen.getByRole('list', { name: 'Facility colours' }).textContent).toBe('MERCYNORTHWIND');

    const stay = items[4];
    if (stay === undefined) throw new Error('no stay');
    expect(stay.textContent).toContain('Discharged');
    expect(stay.textContent).toContain('Dr Gregory House');
    expect(stay.textContent).toContain('Home');
    expect(stay.textContent).toContain('Non-ST elevation myocardial infarction');
    expect(stay.textContent).toContain('From MERCY');
    expect(stay.textContent).toContain('message 104');

    const cmp = items[3];
    if (cmp === undefined) throw new Error('no CMP');
    expect(within(cmp).getByText('Critical high', { selector: '.badges .badge' })).toBeTruthy();
    expect(within(cmp).getAllByText('Corrected').length).toBeGreaterThan(0);
    expect(within(cmp).getByRole('list', { name: /Flagged or corrected/ }).textContent).toContain(
      'Potassium 6.8 mmol/L',
    );

    const attention = screen.getByRole('region', { name: 'Needs attention' });
    expect(within(attention).getByText('Seen in the emergency department')).toBeTruthy();
    const links = within(attention).getAllByRole('link');
    // A notice about a result links to the report that shows it.
    expect(links.slice(0, 2).map((l) => l.getAttribute('href'))).toEqual([
      '#ev-Encounter-c0af057e9b6b3473ad3a4164cf003201',
      '#ev-DiagnosticReport-042666cff7778ce3b6c60b77ccd0d6fc',
    ]);
    expect(links.slice(2).map((l) => l.textContent)).toEqual([
      'Comprehensive metabolic panel',
      'Basic panel',
      'CBC panel',
    ]);
  });

  it('opens a report’s full results and the trend of a test across facilities', async () => {
    renderScreen({ source: source(() => Promise.resolve(goldenBundle())) });
    const cmp = await screen.findByRole('article', { name: /Comprehensive metabolic panel/ });
    const details = within(cmp).getByText('All results (11)').closest('details');
    if (details === null) throw new Error('no details');
    act(() => {
      details.open = true;
      details.dispatchEvent(new Event('toggle'));
    });
    const table = within(cmp).getByRole('table');
    expect(within(table).getAllByRole('row')).toHaveLength(12);
    fireEvent.click(within(table).getByRole('button', { name: 'Trend of Glucose' }));
    const trend = await screen.findByRole('region', { name: /Trend: Glucose/ });
    const values = within(trend).getByRole('region', { name: 'Values of Glucose' });
    expect(
      within(values)
        .getAllByRole('row')
        .map((r) => r.textContent),
    ).toEqual([
      'WhenValueFlagFacility',
      expect.stringContaining('95 mg/dL') as string,
      expect.stringContaining('182 mg/dL') as string,
    ]);
    fireEvent.click(within(trend).getByRole('button', { name: 'Close trend' }));
    expect(screen.queryByRole('region', { name: /Trend:/ })).toBeNull();
  });

  it('filters by facility and by kind of event', async () => {
    renderScreen({ source: source(() => Promise.resolve(goldenBundle())) });
    await screen.findByRole('heading', { name: 'Timeline' });
    const facility = screen.getByRole('group', { name: 'Facility' });
    fireEvent.click(within(facility).getByRole('checkbox', { name: 'NORTHWIND' }));
    expect(screen.getByText('Showing 2 of 5 events, newest first.')).toBeTruthy();
    const kind = screen.getByRole('group', { name: 'Kind of event' });
    fireEvent.click(within(kind).getByRole('checkbox', { name: 'Lab results' }));
    expect(screen.getAllByRole('article')).toHaveLength(1);
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(screen.getAllByRole('article')).toHaveLength(5);
  });

  it('marks what arrived since the last look, and saves this look', async () => {
    const storage = memoryStorage({
      [lastLookKey(ISSUER, '22830ccd7032c5d2558c2da02336a8b6')]: '2024-03-10T00:00:00Z',
    });
    renderScreen({ source: source(() => Promise.resolve(goldenBundle())), lastLookStorage: storage });
    await screen.findByRole('heading', { name: 'Timeline' });
    expect(screen.getAllByText('New', { selector: '.badge' })).toHaveLength(2);
    expect(screen.getByText(/2 new since your last look/)).toBeTruthy();
    await waitFor(() => {
      expect(storage.getItem(lastLookKey(ISSUER, '22830ccd7032c5d2558c2da02336a8b6'))).not.toBe(
        '2024-03-10T00:00:00Z',
      );
    });
    fireEvent.click(screen.getByRole('button', { name: 'Mark all as seen' }));
    expect(screen.queryAllByText('New', { selector: '.badge' })).toHaveLength(0);
  });

  it('shows the patient banner only when the EHR asks for one', async () => {
    const readEhrPatient = (): Promise<never> => Promise.reject(new Error('EHR read refused'));
    renderScreen({
      source: source(() => Promise.resolve(goldenBundle())),
      needPatientBanner: true,
      readEhrPatient,
    });
    const banner = await screen.findByRole('region', { name: 'Patient' });
    await waitFor(() => {
      expect(banner.textContent).toContain('Jane Q Doe');
    });
    expect(banner.textContent).toContain('MRN MRN123');
    cleanup();
    renderScreen({ source: source(() => Promise.resolve(goldenBundle())) });
    await screen.findByRole('heading', { name: 'Timeline' });
    expect(screen.queryByRole('region', { name: 'Patient' })).toBeNull();
  });

  it('shows an empty timeline with the reason when nobody matched (not an error)', () => {
    const src = source(() => Promise.reject(new Error('must not be called')));
    renderScreen({
      source: src,
      patient: undefined,
      match: { status: 'none', reason: 'no record with this name and birth date', records: [] },
    });
    const empty = screen.getByRole('status');
    expect(empty.textContent).toContain('No hospital records found for this patient');
    expect(empty.textContent).toContain('no record with this name and birth date');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(src.calls).toEqual([]);
  });

  it('says when the person has no events yet', async () => {
    renderScreen({ source: source(() => Promise.resolve({ resourceType: 'Bundle', entry: [] })) });
    expect((await screen.findByText('Nothing from the hospitals yet')).textContent).toBeTruthy();
  });

  it('shows an error with a retry when the engine fails, and recovers', async () => {
    let fail = true;
    renderScreen({
      source: source(() =>
        fail
          ? Promise.reject(new EngineRequestError('store unavailable', 503))
          : Promise.resolve(goldenBundle()),
      ),
    });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The timeline could not be loaded');
    expect(alert.textContent).toContain('store unavailable');
    fail = false;
    fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    await screen.findByRole('heading', { name: 'Timeline' });
  });

  it('says to relaunch from the EHR when the session ended', async () => {
    renderScreen({ source: source(() => Promise.reject(new SessionExpiredError())) });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Your session has ended');
    expect(alert.textContent).toContain('Open this app from your EHR again');
  });

  it('renders 500 events: the newest at once (within the 1.5 s budget), the rest right after', async () => {
    const now = Date.parse('2024-03-25T00:00:00Z');
    const bundle = syntheticBundle({ events: 500, now });
    const articles = (): number => document.querySelectorAll('article').length;
    const started = performance.now();
    renderScreen({ source: source(() => Promise.resolve(bundle)), now });
    // Plain selector polling: role queries over 500 cards would dominate what is measured.
    await waitFor(
      () => {
        expect(articles()).toBeGreaterThan(0);
      },
      { interval: 5 },
    );
    const firstRender = performance.now() - started;
    expect(document.body.textContent).toContain('Showing all 500 events, newest first.');
    expect(firstRender).toBeLessThan(1500);
    await waitFor(
      () => {
        expect(articles()).toBe(500);
      },
      { interval: 5, timeout: 10_000 },
    );
    expect(document.querySelector('ol.timeline')?.getAttribute('aria-busy')).toBe('false');
    console.info(
      `500 events (happy-dom): first render ${Math.round(firstRender)} ms, all ${Math.round(performance.now() - started)} ms`,
    );
  });
});

describe('session problems', () => {
  it('tells a user who opened the page directly to open it from the EHR', () => {
    render(<SessionProblem error={new LaunchRequiredError()} />);
    expect(screen.getByRole('alert').textContent).toContain('Open this app from your EHR');
  });
});
