/**
 * The "EHR" a person clicks through in the demo: a patient list, and for each patient a chart
 * that embeds the care timeline in an iframe (as EHRs embed SMART apps) or a direct link that
 * opens the app on its own. Both create a launch context naming the patient and send the app to
 * its launch URL with `iss` and `launch`, which is the SMART EHR launch.
 */
import express, { type Response, type Router } from 'express';
import type { DemoPatient } from './demo-patients';
import { escapeHtml, renderPage, sendHtml } from './html-page';
import type { SandboxContext } from './sandbox-context';

/**
 * The app's launch URL for a new launch context for `patient`.
 * @param ctx - the sandbox's shared state.
 * @param patient - EHR Patient id.
 */
export function launchUrlFor(ctx: SandboxContext, patient: string): string {
  const launch = ctx.store.createLaunch(patient, ctx.lifetimes.launchSec * 1000);
  const url = new URL(ctx.appLaunchUrl);
  url.searchParams.set('iss', ctx.urls.iss);
  url.searchParams.set('launch', launch);
  return url.href;
}

const displayName = (p: DemoPatient): string =>
  `${p.family}, ${p.given}${p.middle !== undefined ? ` ${p.middle}` : ''}`;
const sexOf = (p: DemoPatient): string => (p.gender === 'female' ? 'F' : 'M');

function listPage(ctx: SandboxContext): string {
  const rows = ctx.patients
    .map((p) => {
      const id = encodeURIComponent(p.id);
      return (
        `<tr><td><strong>${escapeHtml(displayName(p))}</strong><br><span class="note">${escapeHtml(p.mrn)}</span></td>` +
        `<td>${escapeHtml(p.birthDate)} (${sexOf(p)})</td><td class="story">${escapeHtml(p.story)}</td>` +
        `<td><a class="button" href="/ehr/${id}">Open care timeline</a><br>` +
        `<a class="button secondary" href="/launch/${id}" target="_blank" rel="noopener">Open in a new tab</a></td></tr>`
      );
    })
    .join('');
  const body =
    `<h1>My patients</h1>` +
    `<p class="note">"Open care timeline" opens the patient's chart with the SMART app embedded, as an EHR ` +
    `does; "Open in a new tab" launches the app on its own. Both are SMART EHR launches.</p>` +
    `<table><thead><tr><th>Patient</th><th>Born</th><th>In this demo</th><th></th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="note">FHIR base (iss): ${escapeHtml(ctx.urls.iss)}</p>`;
  return renderPage({ title: 'My patients', practitioner: ctx.practitioner, body });
}

function chartPage(ctx: SandboxContext, p: DemoPatient, appUrl: string): string {
  const tabs = ['Summary', 'Problems', 'Medications', 'Results', 'Care timeline']
    .map((t) => `<span${t === 'Care timeline' ? ' class="active"' : ''}>${t}</span>`)
    .join('');
  const body =
    `<div class="banner"><span class="name">${escapeHtml(displayName(p))}</span>` +
    `<span>${escapeHtml(p.birthDate)} (${sexOf(p)})</span><span>MRN ${escapeHtml(p.mrn)}</span>` +
    `<span>PCP Dr. ${escapeHtml(ctx.practitioner.family)}</span></div>` +
    `<div class="tabs">${tabs}</div>` +
    `<iframe title="Care timeline for ${escapeHtml(displayName(p))}" src="${escapeHtml(appUrl)}" ` +
    `referrerpolicy="no-referrer"></iframe>`;
  return renderPage({ title: displayName(p), practitioner: ctx.practitioner, body, layout: 'chart' });
}

function unknownPatient(ctx: SandboxContext, res: Response): void {
  const body = `<h1>No such patient</h1><p><a href="/">Back to the patient list</a></p>`;
  sendHtml(res, 404, renderPage({ title: 'Not found', practitioner: ctx.practitioner, body }));
}

/**
 * The launcher routes: `/`, `/ehr/<patientId>` and `/launch/<patientId>`.
 * @param ctx - the sandbox's shared state.
 */
export function createLauncherRouter(ctx: SandboxContext): Router {
  const router = express.Router();
  router.get('/', (_req, res) => sendHtml(res, 200, listPage(ctx)));
  router.get('/ehr/:patientId', (req, res) => {
    const patient = ctx.patients.find((p) => p.id === req.params.patientId);
    if (patient === undefined) return unknownPatient(ctx, res);
    // The frame goes to the app, then (the app's authorization) to this EHR, then back.
    sendHtml(res, 200, chartPage(ctx, patient, launchUrlFor(ctx, patient.id)), {
      frameSrc: ["'self'", ...ctx.appOrigins],
    });
  });
  router.get('/launch/:patientId', (req, res) => {
    const patient = ctx.patients.find((p) => p.id === req.params.patientId);
    if (patient === undefined) return unknownPatient(ctx, res);
    res.set('cache-control', 'no-store').redirect(302, launchUrlFor(ctx, patient.id));
  });
  return router;
}
