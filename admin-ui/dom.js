// @ts-check
// Building the page from data without innerHTML: every text goes in as text, so a zone or
// media title can never become markup.

/**
 * h('button', { class: 'primary', onclick: fn }, 'Text', child) — attributes starting with
 * "on" become listeners, `dataset`/`style` objects are merged, false/null values are skipped.
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (name === 'value' || name === 'checked' || name === 'indeterminate' || name === 'disabled' || name === 'selected') {
      /** @type {any} */ (el)[name] = value;
    } else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** @param {Node} parent @param {any[]} children */
function append(parent, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the content of `el`. @param {Element} el @param {...any} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * A message line (role=status, or role=alert for errors) that a view can fill and clear.
 * @returns {{ el: HTMLElement, info(text: string): void, ok(text: string): void, error(text: string): void, clear(): void }}
 */
export function notice() {
  const el = h('div', { class: 'notice', hidden: true });
  const show = (/** @type {string} */ kind, /** @type {string} */ text) => {
    el.className = `notice notice-${kind}`;
    el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    el.textContent = text;
    el.hidden = false;
  };
  return {
    el,
    info: (text) => show('info', text),
    ok: (text) => show('ok', text),
    error: (text) => show('error', text),
    clear: () => {
      el.hidden = true;
      el.textContent = '';
    },
  };
}

/** A labelled form field. @param {string} label @param {HTMLElement} control @param {string} [hint] */
export function field(label, control, hint) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    hint ? h('small', { class: 'hint' }, hint) : null,
  );
}

/** Copies text to the clipboard, also on plain http (no secure context) through a selection. */
export async function copyText(/** @type {string} */ text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Fall through to the selection method.
    }
  }
  const area = h('textarea', { readonly: true, class: 'offscreen' });
  /** @type {HTMLTextAreaElement} */ (area).value = text;
  document.body.appendChild(area);
  /** @type {HTMLTextAreaElement} */ (area).select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
