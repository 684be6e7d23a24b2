// @ts-check
// Endpoints by zone: online/offline, last seen, reception quality when the agent reports it.
// Creating one (or issuing a new secret) shows the device token once, with the command line
// to run on the receiver box.
import { h, field, notice, replace, copyText } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { formatAgo, formatDateTime, formatNumber } from '../format.js';
import { loadEndpoints, loadZones, poll } from '../data.js';
import { buildTree, zoneOptions } from '../zone-tree.js';
import { canAt, canSomewhere } from '../session.js';
import { table } from '../table.js';

const KINDS = ['rtp', 'sip', 'webrtc', 'http'];

/** The control-channel address of this server as a box on the same network reaches it. */
function controlServerUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}

/** @param {string} s */
function shellQuote(s) {
  return /^[A-Za-z0-9_\-.:/@=+]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** @param {{ id: string, name: string }} endpoint @param {string} token @param {string} titleKey */
export function showTokenDialog(endpoint, token, titleKey) {
  const command = `loa endpoint --server ${shellQuote(controlServerUrl())} --id ${shellQuote(endpoint.id)} --token ${shellQuote(token)}`;
  const copyRow = (/** @type {string} */ label, /** @type {string} */ value, /** @type {string} */ name, multiline = false) => {
    const control = multiline
      ? h('textarea', { readonly: true, rows: 3, class: 'mono', name, spellcheck: 'false' })
      : h('input', { readonly: true, class: 'mono', name, spellcheck: 'false' });
    /** @type {HTMLInputElement} */ (control).value = value;
    const status = h('span', { class: 'copy-status', role: 'status' });
    const button = h(
      'button',
      {
        type: 'button',
        class: 'copy',
        onclick: async () => {
          const ok = await copyText(value);
          status.textContent = ok ? t('copied') : t('copy_failed');
          if (!ok) /** @type {HTMLInputElement} */ (control).select();
        },
      },
      t('copy'),
    );
    return h('div', { class: 'field copy-field' }, h('label', { for: (control.id = `c-${name}`) }, label), h('div', { class: 'copy-line' }, control, button), status);
  };
  const dialog = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      { class: 'token-dialog', 'aria-labelledby': 'token-dialog-title' },
      h('h2', { id: 'token-dialog-title' }, t(titleKey, { name: endpoint.name })),
      h('p', { class: 'notice notice-warn' }, t('endpoint_token_once')),
      copyRow(t('endpoint_id'), endpoint.id, 'endpoint-id'),
      copyRow(t('endpoint_token'), token, 'endpoint-token'),
      copyRow(t('endpoint_command'), command, 'endpoint-command', true),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => dialog.close() }, t('close'))),
    )
  );
  // Closed means gone: the token must not linger in the page.
  dialog.addEventListener('close', () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}

/** @param {Record<string, unknown> | null} stats */
function quality(stats) {
  if (!stats) return t('none');
  /** @type {string[]} */
  const parts = [];
  const num = (/** @type {string} */ k) => (typeof stats[k] === 'number' ? /** @type {number} */ (stats[k]) : undefined);
  const loss = num('lossFraction');
  if (loss !== undefined) parts.push(t('stat_loss', { value: `${formatNumber(loss * 100)}%` }));
  const jitter = num('jitterMs');
  if (jitter !== undefined) parts.push(t('stat_jitter', { value: `${formatNumber(jitter)} ms` }));
  const delay = num('bufferDelayMs');
  if (delay !== undefined) parts.push(t('stat_delay', { value: `${formatNumber(delay, 0)} ms` }));
  if (parts.length === 0) return t('none');
  return h('span', { class: `quality${loss !== undefined && loss > 0.05 ? ' quality-bad' : ''}` }, parts.join(' · '));
}

/** @param {any} e */
function statusBadge(e) {
  if (!e.enabled) return h('span', { class: 'badge badge-offline' }, t('status_disabled'));
  return e.online ? h('span', { class: 'badge badge-online' }, t('status_online')) : h('span', { class: 'badge badge-offline' }, t('status_offline'));
}

/** @param {HTMLElement} main @param {URLSearchParams} params */
export function render(main, params) {
  const message = notice();
  const listBox = h('div', { class: 'list-box' });
  const summary = h('p', { class: 'muted' });
  const zoneFilter = /** @type {HTMLSelectElement} */ (h('select', { name: 'zone-filter' }));
  /** @type {import('../zone-tree.js').Tree | null} */
  let tree = null;
  let zoneId = params.get('zone') ?? '';
  let lastSignature = '';
  /** @type {HTMLSelectElement | null} */
  let createZone = null;

  const refresh = async () => {
    try {
      const [zones, endpoints] = await Promise.all([loadZones(), loadEndpoints(zoneId || undefined)]);
      const signature = JSON.stringify([zones, endpoints]);
      if (signature === lastSignature) return;
      lastSignature = signature;
      const firstTime = tree === null;
      tree = buildTree(zones);
      if (firstTime) {
        replace(zoneFilter, h('option', { value: '' }, t('endpoints_all_zones')), zoneOptions(tree, () => true, zoneId));
        if (createZone) replace(createZone, zoneOptions(tree, (z) => canAt('endpoints.manage', z), zoneId));
      }
      const online = endpoints.filter((/** @type {any} */ e) => e.online).length;
      summary.textContent = t('endpoints_count', { online, total: endpoints.length });
      const byId = tree.byId;
      replace(
        listBox,
        endpoints.length === 0
          ? h('p', { class: 'muted' }, t('endpoints_empty'))
          : table(
              [
                { label: t('col_name'), cell: (e) => h('strong', null, e.name) },
                { label: t('col_zone'), cell: (e) => byId.get(e.zoneId)?.zone.name ?? e.zoneId },
                { label: t('col_kind'), cell: (e) => t(`endpoint_kind_${e.kind}`) },
                { label: t('col_status'), cell: statusBadge },
                {
                  label: t('col_last_seen'),
                  cell: (e) => (e.lastSeenAt ? h('time', { datetime: e.lastSeenAt, title: formatDateTime(e.lastSeenAt) }, formatAgo(e.lastSeenAt)) : t('never_seen')),
                },
                { label: t('col_quality'), cell: (e) => quality(e.stats) },
                {
                  label: t('col_actions'),
                  className: 'row-actions',
                  cell: (e) => {
                    const zone = byId.get(e.zoneId)?.zone;
                    if (!zone || !canAt('endpoints.manage', zone)) return null;
                    return [
                      h('button', { type: 'button', onclick: () => regenerate(e) }, t('endpoint_regenerate')),
                      h('button', { type: 'button', class: 'danger', onclick: () => remove(e) }, t('delete')),
                    ];
                  },
                },
              ],
              endpoints,
              (e) => ({ 'data-endpoint-id': e.id }),
            ),
      );
      message.clear();
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  };

  /** @param {any} e */
  const regenerate = async (e) => {
    if (!confirm(t('endpoint_regenerate_confirm', { name: e.name }))) return;
    try {
      const res = await api('POST', `/endpoints/${encodeURIComponent(e.id)}/credential`);
      showTokenDialog(res.endpoint, res.credential, 'endpoint_new_token');
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  };
  /** @param {any} e */
  const remove = async (e) => {
    if (!confirm(t('endpoint_delete_confirm', { name: e.name }))) return;
    try {
      await api('DELETE', `/endpoints/${encodeURIComponent(e.id)}`);
      lastSignature = '';
      await refresh();
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  };

  zoneFilter.addEventListener('change', () => {
    zoneId = zoneFilter.value;
    history.replaceState(null, '', `#/endpoints${zoneId ? `?zone=${encodeURIComponent(zoneId)}` : ''}`);
    lastSignature = '';
    void refresh();
  });

  /** @type {HTMLElement | null} */
  let form = null;
  if (canSomewhere('endpoints.manage')) {
    const formMessage = notice();
    const name = /** @type {HTMLInputElement} */ (h('input', { name: 'name', required: true, maxlength: 200 }));
    const zone = /** @type {HTMLSelectElement} */ (h('select', { name: 'zone', required: true }));
    const kind = /** @type {HTMLSelectElement} */ (h('select', { name: 'kind' }, KINDS.map((k) => h('option', { value: k }, t(`endpoint_kind_${k}`)))));
    const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary' }, t('create')));
    form = (
      h(
        'form',
        {
          class: 'card form-grid',
          onsubmit: async (/** @type {Event} */ ev) => {
            ev.preventDefault();
            formMessage.clear();
            submit.disabled = true;
            try {
              const res = await api('POST', '/endpoints', { name: name.value.trim(), zoneId: zone.value, kind: kind.value });
              formMessage.ok(t('endpoint_created', { name: res.endpoint.name }));
              name.value = '';
              showTokenDialog(res.endpoint, res.credential, 'endpoint_created');
              lastSignature = '';
              await refresh();
            } catch (err) {
              formMessage.error(/** @type {Error} */ (err).message);
            } finally {
              submit.disabled = false;
            }
          },
        },
        h('h2', null, t('endpoint_new')),
        field(t('endpoint_name'), name),
        field(t('endpoint_zone'), zone),
        field(t('endpoint_kind'), kind),
        formMessage.el,
        h('div', { class: 'actions' }, submit),
      )
    );
    createZone = zone;
  }

  main.append(
    h('div', { class: 'page-head' }, h('h1', null, t('endpoints_title')), field(t('endpoints_zone_filter'), zoneFilter)),
    message.el,
    summary,
    listBox,
    form,
  );
  replace(listBox, h('p', { class: 'muted' }, t('loading')));
  return poll(refresh, 5000);
}
