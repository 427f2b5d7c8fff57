import type { FastifyReply } from 'fastify';
import { ASSETS_PATH } from './nhsuk-assets.js';

/*
 * The sandbox sign-in pages in the NHS.UK design system (nhsuk-frontend 10): the markup of its page
 * template and components as their Nunjucks macros render it (nhsuk-frontend
 * `dist/nhsuk/template.njk` and `components/<name>/template.njk`, whose `fixtures.json` holds the
 * rendered HTML; html.test.ts compares with it), styled by its compiled stylesheet (nhsuk-assets.ts).
 * No JavaScript: every page is a plain form, which the design system's components support without
 * it (their `data-module` attributes stay, inert). Every interpolated value goes through escapeHtml.
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/**
 * The sign-in pages' Content-Security-Policy: the stylesheet from the sandbox itself, nothing else
 * (no script, no frame). No `form-action`: a sign-in form's answer redirects the browser on to the
 * relying party's redirect URI, another origin, which `form-action` would also have to allow.
 */
export const SIGN_IN_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Which service a page belongs to, and where its stylesheet is. */
export interface PageFrame {
  /** The header's service name, e.g. `NHS login (sandbox)`. */
  service: string;
  /** The provider's base path as the browser sees it (the issuer's path), e.g. `/nhs-login`. */
  basePath: string;
  /** The stylesheet's file name below `<basePath>/assets/`. */
  stylesheet: string;
}

/** One problem on a form: the error summary links to the field it is about. */
export interface FieldError {
  /** The id of the field (the first radio of a group). */
  href: string;
  text: string;
}

// The NHS logo as nhsuk-frontend's header template draws it.
const NHS_LOGO = `<svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS">
        <title>NHS</title>
        <path fill="currentcolor" d="M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z"/>
      </svg>`;

/**
 * A whole page: skip link, header with the service name, the content in the two-thirds column,
 * a footer saying what this is. `title` is the page's own title; the document title adds the
 * service, and "Error: " first when the page shows errors (as the design system's error summary
 * guidance asks).
 */
export function page(frame: PageFrame, title: string, content: string, hasErrors = false): string {
  const documentTitle = `${hasErrors ? 'Error: ' : ''}${title} – ${frame.service}`;
  const stylesheet = `${frame.basePath}${ASSETS_PATH}/${frame.stylesheet}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(documentTitle)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#005eb8">
<link rel="icon" href="${escapeHtml(`${frame.basePath}${ASSETS_PATH}/images/favicon.svg`)}" type="image/svg+xml">
<link rel="stylesheet" href="${escapeHtml(stylesheet)}">
</head>
<body>
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="nhsuk-header" role="banner">
  <div class="nhsuk-header__container nhsuk-width-container">
    <div class="nhsuk-header__service">
      ${NHS_LOGO}
      <span class="nhsuk-header__service-name">${escapeHtml(frame.service)}</span>
    </div>
  </div>
</header>
<div class="nhsuk-width-container">
<main class="nhsuk-main-wrapper" id="maincontent">
<div class="nhsuk-grid-row">
<div class="nhsuk-grid-column-two-thirds">
${content}
</div>
</div>
</main>
</div>
<footer class="nhsuk-footer" role="contentinfo">
  <div class="nhsuk-width-container">
    <div class="nhsuk-footer__meta">
      <p class="nhsuk-body-s">Junction sandbox: synthetic test data only. Not an NHS service.</p>
    </div>
  </div>
</footer>
</body>
</html>
`;
}

/** Sends a page with the sign-in pages' headers (HTML, CSP, never cached: pages carry a one-time form). */
export function sendPage(reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply
    .code(status)
    .header('content-security-policy', SIGN_IN_CSP)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

/** A page that only says something: a heading and paragraphs. */
export function messagePage(frame: PageFrame, title: string, paragraphs: readonly string[]): string {
  return page(
    frame,
    title,
    `<h1>${escapeHtml(title)}</h1>\n${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}`,
  );
}

/** The page for a sign-in whose interaction is gone (its cookie missing or expired). */
export function sendExpired(reply: FastifyReply, frame: PageFrame): FastifyReply {
  return sendPage(
    reply,
    messagePage(frame, 'Sign-in expired', ['Go back to the service and sign in again.']),
    400,
  );
}

/**
 * Error summary (nhsuk-frontend `error-summary`). Without the design system's script, `autofocus`
 * moves focus to it on load, as the script would, so a screen reader announces it first.
 */
export function errorSummary(errors: readonly FieldError[]): string {
  if (errors.length === 0) return '';
  const items = errors
    .map(
      (e) =>
        `        <li>\n          <a href="#${escapeHtml(e.href)}">${escapeHtml(e.text)}</a>\n        </li>`,
    )
    .join('\n');
  return `<div class="nhsuk-error-summary" data-module="nhsuk-error-summary" tabindex="-1" autofocus>
  <div role="alert">
    <h2 class="nhsuk-error-summary__heading">There is a problem</h2>
    <div class="nhsuk-error-summary__body">
      <ul class="nhsuk-list nhsuk-error-summary__list">
${items}
      </ul>
    </div>
  </div>
</div>`;
}

/** Inset text (nhsuk-frontend `inset-text`). */
export function insetText(text: string): string {
  return `<div class="nhsuk-inset-text">
  <span class="nhsuk-u-visually-hidden">Information: </span>
  <p>${escapeHtml(text)}</p>
</div>`;
}

/** One choice of a radio group; `hint` lines go under its label. */
export interface RadioItem {
  value: string;
  text: string;
  hint?: readonly string[];
  checked?: boolean;
}

/**
 * A radio group whose legend is the page's h1 (nhsuk-frontend `radios` with `fieldset.legend`
 * `isPageHeading`, size l), with an optional hint and error message. The first radio's id is
 * `idPrefix` (what an error summary links to), the others `idPrefix-2`, `-3`, …
 */
export function radios(options: {
  name: string;
  idPrefix: string;
  legend: string;
  hint?: string;
  error?: string;
  items: readonly RadioItem[];
}): string {
  const { idPrefix } = options;
  const hintId = `${idPrefix}-hint`;
  const errorId = `${idPrefix}-error`;
  const describedBy = [options.hint && hintId, options.error && errorId].filter(Boolean).join(' ');
  const items = options.items
    .map((item, i) => {
      const id = i === 0 ? idPrefix : `${idPrefix}-${i + 1}`;
      const itemHintId = `${id}-item-hint`;
      const hint = item.hint?.length
        ? `\n      <div class="nhsuk-hint nhsuk-radios__hint" id="${itemHintId}">\n        ${item.hint.map(escapeHtml).join('<br>\n        ')}\n      </div>`
        : '';
      return `    <div class="nhsuk-radios__item">
      <input class="nhsuk-radios__input" id="${escapeHtml(id)}" name="${escapeHtml(options.name)}" type="radio" value="${escapeHtml(item.value)}"${item.checked ? ' checked' : ''}${hint ? ` aria-describedby="${escapeHtml(itemHintId)}"` : ''}>
      <label class="nhsuk-label nhsuk-radios__label" for="${escapeHtml(id)}">${escapeHtml(item.text)}</label>${hint}
    </div>`;
    })
    .join('\n');
  return `<div class="nhsuk-form-group${options.error ? ' nhsuk-form-group--error' : ''}">
  <fieldset class="nhsuk-fieldset"${describedBy ? ` aria-describedby="${escapeHtml(describedBy)}"` : ''}>
  <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--l">
    <h1 class="nhsuk-fieldset__heading">${escapeHtml(options.legend)}</h1>
  </legend>${options.hint ? `\n  <div class="nhsuk-hint" id="${escapeHtml(hintId)}">${escapeHtml(options.hint)}</div>` : ''}${
    options.error
      ? `\n  <span class="nhsuk-error-message" id="${escapeHtml(errorId)}">\n    <span class="nhsuk-u-visually-hidden">Error: </span>${escapeHtml(options.error)}\n  </span>`
      : ''
  }
  <div class="nhsuk-radios" data-module="nhsuk-radios">
${items}
  </div>
  </fieldset>
</div>`;
}

/** A form posting to `action` (the design system's forms validate on the server: `novalidate`). */
export function form(action: string, content: string): string {
  return `<form method="post" action="${escapeHtml(action)}" novalidate>\n${content}\n</form>`;
}

/** A field the form carries back unchanged. */
export function hiddenInput(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

/** The form's submit button (nhsuk-frontend `button`). */
export function button(text: string): string {
  return `<button class="nhsuk-button" data-module="nhsuk-button" type="submit">${escapeHtml(text)}</button>`;
}
