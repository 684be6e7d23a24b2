// @ts-check
// "Phát ngay": choose zones in the tree, something to play (a library file, a test tone, a
// siren), a priority by its official name, an optional maximum duration; start. Below, the
// active programmes with Stop buttons and the on-air table, refreshed every few seconds.
// Server contract: server/api/playback.ts (POST/GET /playback, DELETE /playback/:id, GET /on-air).
import { h, field, notice, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, ApiError } from '../api.js';
import { formatDateTime, formatDuration, priorityClass, priorityLabel, PRIORITY_NAMES } from '../format.js';
import { loadMedia, loadOnAir, loadZones, poll } from '../data.js';
import { buildTree, expandTo, renderZoneTree } from '../zone-tree.js';
import { canAt, canSomewhere } from '../session.js';
import { table } from '../table.js';

const REFRESH_MS = 3000;
const expanded = new Set();
let firstLook = true;

/** @param {string} name @param {string} value @param {string} label @param {boolean} checked @param {string} [cls] */
function radio(name, value, label, checked, cls = '') {
  const id = `r-${name}-${value}`;
  return h(
    'label',
    { class: `choice ${cls}`, for: id },
    h('input', { type: 'radio', name, value, id, checked }),
    h('span', null, label),
  );
}

/** @param {HTMLElement} root @param {string} name */
const chosen = (root, name) => /** @type {HTMLInputElement | null} */ (root.querySelector(`input[name="${name}"]:checked`))?.value ?? '';

/** @param {HTMLElement} main */
export function render(main) {
  const message = notice();
  const formMessage = notice();
  const treeBox = h('div', { class: 'tree-box tree-pick' });
  const chosenCount = h('p', { class: 'muted', 'aria-live': 'polite' });
  const activeBox = h('div', { class: 'list-box', id: 'active-programmes' });
  const onAirBox = h('div', { class: 'list-box', id: 'on-air' });
  /** @type {Set<string>} */
  const checked = new Set();
  /** @type {import('../zone-tree.js').Tree | null} */
  let tree = null;
  let available = true;
  let activeSignature = '';

  const updateCount = () => {
    chosenCount.textContent = t('play_zones_chosen', { count: checked.size });
  };
  const drawTree = () => {
    if (!tree) return;
    replace(treeBox, renderZoneTree(tree, { expanded, checked, checkable: (z) => canAt('playback.push', z), onCheck: updateCount }));
    updateCount();
  };

  // ── What to play ──
  const mediaSelect = /** @type {HTMLSelectElement} */ (h('select', { name: 'media' }));
  const toneFreq = /** @type {HTMLInputElement} */ (h('input', { type: 'number', name: 'freq', min: 20, max: 20000, step: 1, value: '1000', inputmode: 'numeric' }));
  const toneLength = /** @type {HTMLInputElement} */ (h('input', { type: 'number', name: 'tone-length', min: 1, max: 3600, step: 1, value: '10', inputmode: 'numeric' }));
  const sirenShape = /** @type {HTMLSelectElement} */ (
    h('select', { name: 'shape' }, ['wail', 'yelp', 'hilo'].map((s) => h('option', { value: s }, t(`siren_${s}`))))
  );
  const sirenLength = /** @type {HTMLInputElement} */ (h('input', { type: 'number', name: 'siren-length', min: 1, max: 3600, step: 1, value: '30', inputmode: 'numeric' }));
  const panels = {
    media: h('div', { class: 'source-panel' }, field(t('play_media_pick'), mediaSelect)),
    tone: h('div', { class: 'source-panel', hidden: true }, field(t('play_tone_freq'), toneFreq), field(t('play_length_s'), toneLength)),
    siren: h('div', { class: 'source-panel', hidden: true }, field(t('play_siren_shape'), sirenShape), field(t('play_length_s'), sirenLength)),
  };
  const sourceSet = h(
    'fieldset',
    {
      class: 'choices',
      onchange: () => {
        const kind = chosen(sourceSet, 'source');
        for (const [k, panel] of Object.entries(panels)) panel.hidden = k !== kind;
      },
    },
    h('legend', null, t('play_source')),
    h('div', { class: 'choice-row' }, radio('source', 'media', t('source_media'), true), radio('source', 'tone', t('source_tone'), false), radio('source', 'siren', t('source_siren'), false)),
    Object.values(panels),
  );

  // ── Priority ──
  const emergencyAllowed = canSomewhere('playback.emergency');
  const prioritySet = h(
    'fieldset',
    { class: 'choices' },
    h('legend', null, t('play_priority')),
    h(
      'div',
      { class: 'choice-row' },
      PRIORITY_NAMES.filter((p) => p !== 'emergency' || emergencyAllowed).map((p) => radio('priority', p, priorityLabel(p), p === 'normal', `prio-choice prio-${p}`)),
    ),
  );

  const maxMinutes = /** @type {HTMLInputElement} */ (h('input', { type: 'number', name: 'max-minutes', min: 1, max: 1440, step: 1, inputmode: 'numeric' }));
  const title = /** @type {HTMLInputElement} */ (h('input', { name: 'title', maxlength: 200 }));
  const start = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary big start' }, t('play_start')));

  const form = h(
    'form',
    {
      class: 'card play-form',
      onsubmit: async (/** @type {Event} */ ev) => {
        ev.preventDefault();
        formMessage.clear();
        if (checked.size === 0) return formMessage.error(t('play_pick_zone'));
        const kind = chosen(sourceSet, 'source');
        /** @type {any} */
        let source;
        let defaultTitle = '';
        if (kind === 'media') {
          if (!mediaSelect.value) return formMessage.error(t('play_pick_media'));
          source = { kind: 'media', mediaId: mediaSelect.value };
          defaultTitle = mediaSelect.selectedOptions[0]?.dataset.title ?? '';
        } else if (kind === 'tone') {
          const freqHz = Number(toneFreq.value) || 1000;
          source = { kind: 'tone', freqHz, durationMs: Math.round((Number(toneLength.value) || 10) * 1000) };
          defaultTitle = t('play_tone_title', { freq: freqHz });
        } else {
          source = { kind: 'siren', shape: sirenShape.value, durationMs: Math.round((Number(sirenLength.value) || 30) * 1000) };
          defaultTitle = t('play_siren_title');
        }
        /** @type {any} */
        const body = { zoneIds: [...checked], source, priority: chosen(prioritySet, 'priority') || 'normal', title: title.value.trim() || defaultTitle };
        if (Number(maxMinutes.value) > 0) body.maxDurationMs = Math.round(Number(maxMinutes.value) * 60_000);
        start.disabled = true;
        try {
          const created = await api('POST', '/playback', body);
          formMessage.ok(t(created.state === 'waiting' ? 'play_waiting' : 'play_started', { title: created.title ?? body.title }));
          await refreshLive();
        } catch (err) {
          formMessage.error(/** @type {Error} */ (err).message);
        } finally {
          start.disabled = !available;
        }
      },
    },
    h('div', { class: 'play-grid' }, h('fieldset', { class: 'zones-pick' }, h('legend', null, t('play_zones')), h('p', { class: 'hint' }, t('play_zones_hint')), treeBox, chosenCount), h('div', { class: 'play-options' }, sourceSet, prioritySet, field(`${t('play_max_duration')} ${t('optional')}`, maxMinutes), field(`${t('play_item_title')} ${t('optional')}`, title), formMessage.el, start)),
  );

  const zoneNames = (/** @type {string[]} */ ids) => ids.map((id) => tree?.byId.get(id)?.zone.name ?? id).join(', ');

  /** @param {any} p */
  const stop = async (p) => {
    if (!confirm(t('play_stop_confirm', { title: p.title ?? '' }))) return;
    try {
      await api('DELETE', `/playback/${encodeURIComponent(p.id)}`);
      await refreshLive();
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  };

  const refreshLive = async () => {
    let items;
    try {
      items = (await api('GET', '/playback')).items ?? [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.code === 'not_found') {
        available = false;
        start.disabled = true;
        message.info(t('play_unavailable'));
        replace(activeBox);
        replace(onAirBox);
        return;
      }
      message.error(/** @type {Error} */ (err).message);
      return;
    }
    available = true;
    start.disabled = false;
    message.clear();
    // Redrawn only on change: a Stop button must not be swapped under the user's finger.
    const signature = JSON.stringify(items);
    if (signature !== activeSignature) {
      activeSignature = signature;
      drawActive(items);
    }
    await drawOnAir();
  };

  /** @param {any[]} items */
  const drawActive = (items) =>
    replace(
      activeBox,
      items.length === 0
        ? h('p', { class: 'muted' }, t('play_active_empty'))
        : table(
            [
              { label: t('col_programme'), cell: (p) => h('strong', null, p.title ?? p.id) },
              { label: t('col_priority'), cell: (p) => h('span', { class: priorityClass(p.priority) }, priorityLabel(p.priority)) },
              { label: t('col_zones'), cell: (p) => zoneNames(p.zoneIds ?? []) },
              { label: t('col_started'), cell: (p) => formatDateTime(p.startedAt) },
              { label: t('col_actions'), className: 'row-actions', cell: (p) => h('button', { type: 'button', class: 'danger stop', onclick: () => stop(p) }, t('play_stop')) },
            ],
            items,
            (p) => ({ 'data-programme-id': p.id }),
          ),
    );

  const drawOnAir = async () => {
    const onAir = await loadOnAir().catch(() => null);
    if (!onAir) return replace(onAirBox);
    const rows = [...onAir.values()];
    replace(
      onAirBox,
      rows.length === 0
        ? h('p', { class: 'muted' }, t('onair_empty'))
        : table(
            [
              { label: t('col_zone'), cell: (z) => tree?.byId.get(z.zoneId)?.zone.name ?? z.zoneId },
              {
                label: t('col_status'),
                cell: (z) => (z.programmeId ? h('span', { class: 'badge badge-onair' }, t('status_on_air')) : h('span', { class: 'badge badge-offline' }, t('onair_silent'))),
              },
              { label: t('col_programme'), cell: (z) => z.title ?? t('none') },
              { label: t('col_priority'), cell: (z) => (z.priority === null || z.priority === undefined ? t('none') : h('span', { class: priorityClass(z.priority) }, priorityLabel(z.priority))) },
              { label: t('col_since'), cell: (z) => formatDateTime(z.since) },
              { label: t('col_position'), cell: (z) => (typeof z.positionMs === 'number' ? formatDuration(z.positionMs) : t('none')) },
            ],
            rows,
            (z) => ({ 'data-zone-id': z.zoneId, class: z.programmeId ? 'is-onair' : undefined }),
          ),
    );
  };

  main.append(
    h('div', { class: 'page-head' }, h('h1', null, t('play_title'))),
    message.el,
    form,
    h('section', { class: 'card' }, h('h2', null, t('play_active')), activeBox),
    h('section', { class: 'card' }, h('h2', null, t('onair_title')), onAirBox),
  );
  replace(treeBox, h('p', { class: 'muted' }, t('loading')));

  void (async () => {
    try {
      const [zones, media] = await Promise.all([loadZones(), loadMedia()]);
      tree = buildTree(zones);
      if (firstLook) {
        expandTo(tree, expanded, 2);
        firstLook = false;
      }
      drawTree();
      replace(
        mediaSelect,
        media.length === 0
          ? h('option', { value: '' }, t('play_media_none'))
          : media.map((/** @type {any} */ m) => h('option', { value: m.id, dataset: { title: m.title } }, `${m.title} (${formatDuration(m.durationMs)})`)),
      );
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  })();
  return poll(refreshLive, REFRESH_MS);
}
