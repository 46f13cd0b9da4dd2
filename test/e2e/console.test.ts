/**
 * The analyst console end to end in headless Chromium against a real engine: an analyst and an
 * admin in a users file, a mapping set copied to a temporary directory with a fault put in (the
 * patient id now requires PID-3.4, which one feed leaves empty), and messages over MLLP. The admin
 * finds the failed message, fixes the rule in the workbench (first seeing the engine refuse a typo
 * at its line), sees the diff against the deployed output, deploys, replays the error group and
 * sees the message processed under the new mapping version; an analyst cannot deploy. Every
 * screen is saved under test/e2e/screenshots/. Skips (with the reason) where /usr/bin/chromium is
 * missing.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../engine/src/auth/console-password';
import { writeConsoleUsersFile } from '../../engine/src/auth/console-users';
import { chromiumUnavailable, launchChromium } from '../../engine/src/cli/bench/headless-chromium';
import { ensureAppBuild } from '../../engine/src/cli/ensure-app-build';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const UNAVAILABLE = chromiumUnavailable();
if (UNAVAILABLE !== undefined) console.log(`console e2e: skipped, ${UNAVAILABLE}`);

/** Git-ignored; CI can keep them as artifacts. */
const SCREENSHOTS = join(import.meta.dirname, 'screenshots');
const RULE_FILE = 'rules/patient.yaml';
const FACILITY = 'E2EHOSP';
/** The deployed rule: PID-3.4, else the sending facility, names the patient id's system. */
const GOOD_ID_PART = '- { from: PID-3.4, type: HD, to: uri, else: { from: MSH-4, type: HD, to: uri } }';
/** The fault: PID-3.4 required, so a feed without an assigning authority cannot be mapped. */
const FAULTY_ID_PART = '- { from: PID-3.4, type: HD, to: uri, required: true }';
const ADMIN = { name: 'ada', password: 'ada-console-e2e-password', role: 'admin' } as const;
const ANALYST = { name: 'ana', password: 'ana-console-e2e-password', role: 'analyst' } as const;

let dir: string;
let engine: TestEngine;
let browser: Browser;
let base = '';
/** The rule file as the repository has it (the fix), and as deployed with the fault. */
let goodRule = '';
let faultyRule = '';
/** Archive ids: the message the fault fails, and one it maps anyway. */
let failedId = '';
let mappedId = '';
const contexts: BrowserContext[] = [];
let pageErrors: string[] = [];
/** Content-Security-Policy refusals: the console (CodeMirror included) must work within it. */
let cspRefusals: string[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-US' });
  contexts.push(context);
  const page = await context.newPage();
  // A step that hangs fails with its locator, well before the test's own timeout.
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspRefusals.push(m.text());
  });
  return page;
}

async function signIn(page: Page, user: { name: string; password: string }): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function shot(page: Page, name: string): Promise<void> {
  const path = join(SCREENSHOTS, `console-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  expect(statSync(path).size).toBeGreaterThan(5_000);
}

/**
 * Replaces the editor's whole text, as an analyst selecting all and pasting over it would: a
 * paste event the editor handles itself (the browser's own insertion of many lines into the
 * editable area would style what it inserts, which the page's CSP refuses).
 */
async function setEditorText(page: Page, text: string): Promise<void> {
  const content = page.locator('.mapping-editor .cm-content');
  await content.click();
  await page.keyboard.press('Control+A');
  // In-page code is a string (no DOM types here); the editor lives in the host's shadow root.
  await page.evaluate(`(() => {
    const data = new DataTransfer();
    data.setData('text/plain', ${JSON.stringify(text)});
    const content = document.querySelector('.mapping-editor').shadowRoot.querySelector('.cm-content');
    content.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  })()`);
  await page.keyboard.press('Escape');
}

async function messageStatus(id: string): Promise<string | undefined> {
  const rows = await engine.db.query<{ status: string }>(`SELECT status FROM messages WHERE id = $1`, [id]);
  return rows[0]?.status;
}

async function sendAndSettle(client: MllpTestClient, message: string, controlId: string): Promise<string> {
  const ack = await client.send(message);
  expect(ack.code, controlId).toBe('AA');
  let id = '';
  await waitFor(
    async () => {
      const rows = await engine.db.query<{ id: string }>(
        `SELECT id::text AS id FROM messages WHERE control_id = $1 AND status <> 'received'`,
        [controlId],
      );
      id = rows[0]?.id ?? '';
      return id !== '';
    },
    20_000,
    `${controlId} processed or failed`,
  );
  return id;
}

/** What the audit reads of axe-core's results. */
interface AxeViolation {
  readonly id: string;
  readonly impact?: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly unknown[] }[];
}

/** Serious and critical axe-core violations on the page as it is now, one line each. */
async function accessibilityProblems(page: Page): Promise<string[]> {
  if (!(await page.evaluate<boolean>('typeof axe !== "undefined"'))) await page.evaluate(axe.source);
  const violations = await page.evaluate<AxeViolation[]>('axe.run(document).then((r) => r.violations)');
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** In-page code is a string: the engine's tsconfig has no DOM types. */
function forcedDeploy(path: string): string {
  return `(async () => {
    const session = await (await fetch('/console/auth/session')).json();
    const file = await (await fetch('/api/mappings/${path}')).json();
    const res = await fetch('/api/mappings/${path}', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken, 'if-match': file.etag },
      body: JSON.stringify({ content: file.content + '\\n' }),
    });
    return { status: res.status, role: session.user.role };
  })()`;
}

describe.skipIf(UNAVAILABLE !== undefined)('analyst console in headless Chromium', () => {
  beforeAll(async () => {
    await ensureAppBuild({ log: (line) => console.log(line) });
    dir = mkdtempSync(join(tmpdir(), 'console-e2e-'));
    const mappings = join(dir, 'mappings');
    cpSync(join(import.meta.dirname, '../../mappings'), mappings, { recursive: true });
    goodRule = readFileSync(join(mappings, RULE_FILE), 'utf8');
    expect(goodRule, 'the rule this test breaks').toContain(GOOD_ID_PART);
    faultyRule = goodRule.replace(GOOD_ID_PART, FAULTY_ID_PART);
    writeFileSync(join(mappings, RULE_FILE), faultyRule);

    const usersFile = join(dir, 'console-users.json');
    await writeConsoleUsersFile(
      usersFile,
      await Promise.all(
        [ADMIN, ANALYST].map(async (u) => ({
          name: u.name,
          role: u.role,
          passwordHash: await hashPassword(u.password),
        })),
      ),
    );
    engine = await startTestEngine({ env: { CONSOLE_USERS_FILE: usersFile, MAPPINGS_DIR: mappings } });
    base = `http://127.0.0.1:${engine.httpPort}`;

    const client = await MllpTestClient.connect(engine.mllpPort);
    try {
      // No PID-3.4: the faulty rule cannot build the patient's id.
      const noAuthority = adtMessage({
        controlId: 'CONSOLE-FAIL-1',
        facility: FACILITY,
        mrn: 'C100',
      }).replace(`C100^^^${FACILITY}^MR`, 'C100^^^^MR');
      failedId = await sendAndSettle(client, noAuthority, 'CONSOLE-FAIL-1');
      mappedId = await sendAndSettle(
        client,
        adtMessage({ controlId: 'CONSOLE-OK-1', facility: FACILITY, mrn: 'C200' }),
        'CONSOLE-OK-1',
      );
    } finally {
      client.close();
    }
    expect(await messageStatus(failedId)).toBe('failed');
    expect(await messageStatus(mappedId)).toBe('processed');
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await engine?.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    const errors = pageErrors;
    const refusals = cspRefusals;
    pageErrors = [];
    cspRefusals = [];
    expect(errors, 'uncaught errors in the console').toEqual([]);
    expect(refusals, 'styles or scripts the console page’s CSP refused').toEqual([]);
  });

  it('signs in after a wrong password, deep links included, and signs out', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/messages/${failedId}`);
    await page.getByLabel('User name').fill(ADMIN.name);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('The user name or password is not right.');
    await shot(page, 'sign-in');

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The deep link's screen, once signed in.
    await page.getByRole('heading', { name: /Message CONSOLE-FAIL-1/ }).waitFor();
    expect(await page.locator('.console-user').textContent()).toMatch(/ada\s*admin/);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'console_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('User name').waitFor();
    await page.reload();
    await page.getByLabel('User name').waitFor();
  });

  it('finds the failed message by its cause and in the message browser, with the HL7 location and rule', async () => {
    const page = await newPage();
    await signIn(page, ADMIN);
    await page.getByRole('link', { name: 'Errors' }).click();
    const group = page.locator('li.error-group').filter({ hasText: 'PID-3.4' });
    await group.waitFor();
    expect(await group.locator('.error-count').textContent()).toBe('1');
    expect(await group.textContent()).toMatch(/needs an id/);
    expect(await group.textContent()).toContain(FACILITY);
    await group.getByRole('button', { name: 'Show messages' }).click();
    await group.locator(`tr[data-message-id="${failedId}"]`).waitFor();
    await shot(page, 'errors');

    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByLabel('Sender').fill(FACILITY);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe(`?sender=${FACILITY}&status=failed`);
    const rows = page.locator('table.messages-table tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-message-id')).toBe(failedId);
    await page.getByLabel('Patient name').fill('doe');
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => rows.count()).toBe(2);
    await shot(page, 'messages');

    await page.getByRole('link', { name: 'CONSOLE-FAIL-1' }).click();
    await page.getByRole('heading', { name: /Message CONSOLE-FAIL-1/ }).waitFor();
    expect(await page.locator('#message-heading .badge').textContent()).toBe('failed');
    const issues = page.locator('table.issues');
    expect(await issues.textContent()).toContain('PID-3.4');
    expect(await issues.textContent()).toMatch(/rules\/patient\.yaml#patient\.id/);
    const pid = page.locator('details.segment').filter({ hasText: /^PID/ });
    expect(await pid.textContent()).toMatch(/PID-5 .*Doe/);
    await pid.locator('details.field-parts summary').first().click();
    expect(await pid.textContent()).toMatch(/PID-5\.1/);
    await shot(page, 'message-failed');
  });

  it('fixes the mapping in the workbench: refused typo at its line, diff, golden tests, deploy, replay, processed', async () => {
    const page = await newPage();
    await signIn(page, ADMIN);
    await page.goto(`${base}/console/messages/${failedId}`);
    await page.getByRole('link', { name: 'Open mapping in workbench' }).click();
    // The rule the error names, resolved from the engine's `<dir>/rules/patient.yaml`.
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/console/mappings/${RULE_FILE}`);
    await page.locator('.mapping-editor .cm-content').waitFor();
    expect(await page.getByLabel('Message ids').inputValue()).toBe(failedId);

    // A typo the engine refuses: shown at its line in the editor, nothing run.
    await setEditorText(page, goodRule.replace('table: v2-0001 }', 'table: v2-0001-typo }'));
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'The engine refused this set' });
    await refused.waitFor();
    await page.locator('.mapping-editor .cm-lintRange-error').first().waitFor();
    const typoLine = goodRule.split('\n').findIndex((l) => l.includes('table: v2-0001 }')) + 1;
    const gutterLine = await page
      .locator('.mapping-editor .cm-lineNumbers .cm-gutterElement')
      .filter({ hasText: new RegExp(`^${typoLine}$`) })
      .count();
    expect(gutterLine).toBe(1);
    await shot(page, 'workbench-refused');

    // The fix: dry run against the failed message shows its new output as the change.
    await setEditorText(page, goodRule);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const summary = page.locator('.dry-run-summary');
    await expect.poll(() => summary.textContent()).toBe('1 changed, 0 unchanged, 0 failed (of 1 message)');
    expect(await refused.count()).toBe(0);
    const result = page.locator('li.dry-run-result').first();
    expect(await result.textContent()).toMatch(/The deployed mapping fails on it; your edit maps it/);
    const diff = result.locator('.diff-body');
    await diff.waitFor();
    expect(await diff.locator('.jsondiffpatch-added').count()).toBeGreaterThan(0);
    expect(await diff.textContent()).toMatch(/Patient/);
    await shot(page, 'workbench-diff');

    // What the change does to the sender's recent traffic: the failed one changes, the other not.
    await page.getByLabel('The last messages of a sender').check();
    await page.getByLabel('Sender', { exact: true }).fill(FACILITY);
    await page.getByLabel('Last messages', { exact: true }).fill('10');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => summary.textContent()).toBe('1 changed, 1 unchanged, 0 failed (of 2 messages)');

    await page.getByRole('button', { name: 'Run golden tests' }).click();
    await expect
      .poll(() => page.locator('.golden-summary').textContent())
      .toMatch(/^\d+ passed, 0 failed\.$/);
    await shot(page, 'workbench-sender-run');

    const deploy = page.getByRole('button', { name: 'Deploy' });
    expect(await deploy.isEnabled()).toBe(true);
    await deploy.click();
    const deployed = page
      .getByRole('status')
      .filter({ hasText: /^Deployed version \d+ of rules\/patient\.yaml/ });
    await deployed.waitFor({ timeout: 20_000 });
    const setVersion = /mapping set ([^)]+)\)/.exec((await deployed.textContent()) ?? '')?.[1];
    expect(setVersion).toEqual(expect.any(String));
    const history = page.locator('table.versions tbody tr');
    await expect.poll(() => history.count()).toBeGreaterThanOrEqual(2);
    expect(await history.first().textContent()).toMatch(/deploy.*ada/);
    await shot(page, 'workbench-deployed');

    // Replay the whole group after the fix.
    await page.getByRole('link', { name: 'Errors' }).click();
    const group = page.locator('li.error-group').filter({ hasText: 'PID-3.4' });
    await group.getByRole('button', { name: /Replay group/ }).click();
    await group.getByRole('button', { name: 'Replay all' }).click();
    await expect
      .poll(() => page.locator('.replays .replay-text').first().textContent(), { timeout: 20_000 })
      .toBe('Done: 1 of 1 message queued again.');
    // Its only message processed, the group leaves the list; the replay's progress stays.
    await expect.poll(() => group.count(), { timeout: 20_000 }).toBe(0);
    await shot(page, 'errors-replayed');
    await waitFor(
      async () => (await messageStatus(failedId)) === 'processed',
      20_000,
      'the replayed message processed',
    );

    await page.goto(`${base}/console/messages/${failedId}`);
    await page.getByRole('heading', { name: /Message CONSOLE-FAIL-1/ }).waitFor();
    await expect.poll(() => page.locator('#message-heading .badge').textContent()).toBe('processed');
    expect(await page.locator('.mapping-version').textContent()).toBe(setVersion);
    expect(await page.locator('table.issues .badge-critical').count()).toBe(0);
    expect(await page.locator('#fhir-heading + p').textContent()).toMatch(/Patient/);
    await shot(page, 'message-processed');
  });

  it('keeps an analyst from deploying: the button is disabled and a forced PUT is refused', async () => {
    const onDisk = readFileSync(join(dir, 'mappings', RULE_FILE), 'utf8');
    const page = await newPage();
    await signIn(page, ANALYST);
    await page.goto(`${base}/console/mappings/${RULE_FILE}`);
    await page.locator('.mapping-editor .cm-content').waitFor();
    // Typed at the keyboard: a note, Enter, then undone (CodeMirror's history: the typing and the
    // new line are two steps), and typed again.
    const edited = page.locator('#file-heading .badge').filter({ hasText: 'edited' });
    const typeNote = async (): Promise<void> => {
      await page.locator('.mapping-editor .cm-line').first().click();
      await page.keyboard.press('Home');
      await page.keyboard.type("# an analyst's note");
      await page.keyboard.press('Enter');
      await edited.waitFor();
    };
    await typeNote();
    await page.keyboard.press('Control+Z');
    await page.keyboard.press('Control+Z');
    await edited.waitFor({ state: 'detached' });
    await typeNote();
    expect(await page.getByRole('button', { name: 'Deploy' }).isDisabled()).toBe(true);
    expect(await page.locator('#deploy-note').textContent()).toBe('Deploying needs the admin role.');
    // The admin's deploy above made a second version: rolling back to the first needs the admin role.
    await page.locator('table.versions tbody tr').nth(1).waitFor();
    expect(
      await page
        .getByRole('button', { name: /Roll back to/ })
        .first()
        .isDisabled(),
    ).toBe(true);
    // An analyst may still try the edit.
    await page.getByRole('button', { name: 'Run golden tests' }).click();
    await page.locator('.golden-summary').waitFor();
    await shot(page, 'workbench-analyst');

    const forced = await page.evaluate<{ status: number; role: string }>(forcedDeploy(RULE_FILE));
    expect(forced).toEqual({ status: 403, role: 'analyst' });
    expect(readFileSync(join(dir, 'mappings', RULE_FILE), 'utf8')).toBe(onDisk);
  });

  it('has no serious or critical axe-core violations on any screen', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/`);
    await page.getByLabel('User name').waitFor();
    expect(await accessibilityProblems(page), 'sign-in').toEqual([]);
    await signIn(page, ADMIN);
    const screens: [string, () => Promise<void>][] = [
      ['messages', () => page.locator('table.messages-table').waitFor()],
      [`messages/${failedId}`, () => page.locator('details.segment').first().waitFor()],
      ['errors', () => page.locator('p.count').waitFor()],
      [`mappings/${RULE_FILE}`, () => page.locator('.mapping-editor .cm-content').waitFor()],
      ['operations', () => page.locator('table.senders').waitFor()],
    ];
    for (const [path, ready] of screens) {
      await page.goto(`${base}/console/${path}`);
      await ready();
      expect(await accessibilityProblems(page), path).toEqual([]);
    }
  });

  it('shows operations with the queue board link for admins only', async () => {
    const admin = await newPage();
    await signIn(admin, ADMIN);
    await admin.getByRole('link', { name: 'Operations' }).click();
    const row = admin.locator('table.senders tbody tr').filter({ hasText: FACILITY });
    await row.waitFor();
    expect(await row.locator('td').first().textContent()).toMatch(/^[1-9]\d*$/);
    expect(await admin.getByRole('link', { name: 'Queues (Bull Board)' }).getAttribute('href')).toBe(
      '/console/queues',
    );
    await shot(admin, 'operations');

    const analyst = await newPage();
    await signIn(analyst, ANALYST);
    await analyst.goto(`${base}/console/operations`);
    await analyst.locator('table.senders').waitFor();
    expect(await analyst.getByRole('link', { name: 'Queues (Bull Board)' }).count()).toBe(0);
  });
});
