import { html, nothing, type TemplateResult } from 'lit-html';

/** The error and notice lines above a screen, on the buyers' page and the console alike. */
export function banners(state: {
  error?: string | undefined;
  notice?: string | undefined;
}): TemplateResult {
  return html`${
    state.error
      ? html`<p class="banner error" role="alert" data-testid="error">${state.error}</p>`
      : nothing
  }${
    state.notice
      ? html`<p class="banner notice" role="status" data-testid="notice">${state.notice}</p>`
      : nothing
  }`;
}
