/**
 * The sandbox EHR's HTML: one page shell that looks enough like an EHR for a demo, values escaped
 * wherever they are interpolated, and a Content-Security-Policy that allows framing only the app
 * and no script at all (the pages work without JavaScript).
 */
import type { Response } from 'express';
import type { DemoPractitioner } from './demo-patients';

/**
 * Escapes text for HTML element content and quoted attribute values.
 * @param text - untrusted text.
 */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const STYLE = `
  *{box-sizing:border-box} body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1c2733;background:#f4f6f8}
  header.ehr{display:flex;gap:16px;align-items:center;background:#1f3b57;color:#fff;padding:8px 16px}
  header.ehr strong{font-size:16px} header.ehr .user{margin-left:auto;opacity:.9}
  header.ehr a{color:#fff}
  main{padding:16px 24px;max-width:1100px} main.chart{max-width:none;padding:0;display:flex;flex-direction:column;height:calc(100vh - 40px)}
  table{border-collapse:collapse;width:100%;background:#fff} th,td{padding:8px 10px;border-bottom:1px solid #dde3ea;text-align:left;vertical-align:top}
  th{background:#e9eef3;font-weight:600} td.story{color:#4a5a6a;max-width:420px}
  a.button,button{display:inline-block;padding:5px 10px;border-radius:5px;border:1px solid #2f6fb0;background:#2f6fb0;color:#fff;text-decoration:none;font:inherit;cursor:pointer;margin:2px 0}
  a.button.secondary,button.secondary{background:#fff;color:#2f6fb0}
  .banner{display:flex;gap:24px;align-items:baseline;background:#fff;border-bottom:1px solid #dde3ea;padding:8px 16px}
  .banner .name{font-size:18px;font-weight:600}
  .tabs{display:flex;gap:4px;padding:6px 16px 0;background:#e9eef3} .tabs span{padding:6px 12px;border-radius:6px 6px 0 0;color:#4a5a6a}
  .tabs span.active{background:#fff;color:#1c2733;font-weight:600}
  iframe{flex:1;border:0;width:100%;background:#fff}
  .note{color:#4a5a6a} .error{color:#b00020}
`;

export interface PageOptions {
  readonly title: string;
  readonly practitioner: DemoPractitioner;
  /** Already escaped HTML. */
  readonly body: string;
  /** `chart` pages fill the window with the embedded app. */
  readonly layout?: 'list' | 'chart';
}

/**
 * The page around `body`.
 * @param o - title, user and content.
 */
export function renderPage(o: PageOptions): string {
  const user = `Dr. ${o.practitioner.given} ${o.practitioner.family} · ${o.practitioner.practice}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(o.title)} · Sandbox EHR</title><style>${STYLE}</style></head>
<body><header class="ehr"><strong>Sandbox EHR</strong><a href="/">Patient list</a><span class="user">${escapeHtml(user)}</span></header>
<main class="${o.layout ?? 'list'}">${o.body}</main></body></html>`;
}

export interface HtmlPolicy {
  /** Origins the page may frame (the app). */
  readonly frameSrc?: readonly string[];
  /** Origins a form on the page may end up at, redirects included (the app's redirect URI). */
  readonly formAction?: readonly string[];
}

/**
 * Sends a page with headers that keep it from being misused: no script, no sniffing, framed
 * only by the sandbox's own pages (the picker shows inside the EHR's frame).
 * @param res - the response.
 * @param status - HTTP status.
 * @param html - the page.
 * @param policy - what the page may frame and submit to.
 */
export function sendHtml(res: Response, status: number, html: string, policy: HtmlPolicy = {}): void {
  const csp = [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `frame-src ${policy.frameSrc?.join(' ') ?? "'none'"}`,
    `form-action 'self' ${policy.formAction?.join(' ') ?? ''}`.trim(),
    "frame-ancestors 'self'",
    "base-uri 'none'",
  ].join('; ');
  res
    .status(status)
    .set({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    })
    .send(html);
}
