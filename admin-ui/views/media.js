// @ts-check
// The media library: upload with progress (the server's sentence on refusal: not audio,
// truncated, too large, already there), list with duration and format, listen, delete.
import { h, field, notice, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, apiBlob, upload } from '../api.js';
import { formatDateTime, formatDuration, formatSize } from '../format.js';
import { loadMedia, loadZones } from '../data.js';
import { buildTree, zoneOptions } from '../zone-tree.js';
import { canAt, canSomewhere } from '../session.js';
import { table } from '../table.js';

/** @param {HTMLElement} main */
export function render(main) {
  const message = notice();
  const listBox = h('div', { class: 'list-box' });
  const player = /** @type {HTMLAudioElement} */ (h('audio', { controls: true, class: 'preview', hidden: true }));
  /** @type {string | null} */
  let playingUrl = null;
  /** @type {import('../zone-tree.js').Tree | null} */
  let tree = null;

  const stopPreview = () => {
    player.pause();
    player.hidden = true;
    player.removeAttribute('src');
    if (playingUrl) URL.revokeObjectURL(playingUrl);
    playingUrl = null;
  };

  /** @param {any} m */
  const listen = async (m) => {
    try {
      stopPreview();
      const blob = await apiBlob(`/media/${encodeURIComponent(m.id)}/file`);
      playingUrl = URL.createObjectURL(blob);
      player.src = playingUrl;
      player.hidden = false;
      player.setAttribute('aria-label', m.title);
      await player.play().catch(() => {});
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  };

  /** @param {any} m */
  const remove = async (m) => {
    if (!confirm(t('media_delete_confirm', { title: m.title }))) return;
    try {
      await api('DELETE', `/media/${encodeURIComponent(m.id)}`);
      await refresh();
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  };

  const refresh = async () => {
    try {
      const [zones, media] = await Promise.all([loadZones(), loadMedia()]);
      tree = buildTree(zones);
      const byId = tree.byId;
      replace(
        listBox,
        media.length === 0
          ? h('p', { class: 'muted' }, t('media_empty'))
          : table(
              [
                { label: t('col_title'), cell: (m) => h('strong', null, m.title) },
                { label: t('col_zone'), cell: (m) => byId.get(m.zoneId)?.zone.name ?? m.zoneId },
                { label: t('col_duration'), cell: (m) => h('span', { class: 'duration' }, formatDuration(m.durationMs)) },
                { label: t('col_format'), cell: (m) => `${m.format.toUpperCase()} · ${m.codec} · ${m.sampleRate / 1000} kHz` },
                { label: t('col_size'), cell: (m) => formatSize(m.sizeBytes) },
                { label: t('col_added'), cell: (m) => formatDateTime(m.createdAt) },
                {
                  label: t('col_actions'),
                  className: 'row-actions',
                  cell: (m) => {
                    const zone = byId.get(m.zoneId)?.zone;
                    return [
                      h('button', { type: 'button', onclick: () => listen(m) }, t('media_play')),
                      zone && canAt('media.manage', zone) ? h('button', { type: 'button', class: 'danger', onclick: () => remove(m) }, t('delete')) : null,
                    ];
                  },
                },
              ],
              media,
              (m) => ({ 'data-media-id': m.id }),
            ),
      );
      if (uploadZone && uploadZone.options.length === 0) {
        replace(uploadZone, zoneOptions(tree, (z) => canAt('media.manage', z)));
      }
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  };

  /** @type {HTMLSelectElement | null} */
  let uploadZone = null;
  let form = null;
  if (canSomewhere('media.manage')) {
    const formMessage = notice();
    const file = /** @type {HTMLInputElement} */ (h('input', { type: 'file', name: 'file', accept: 'audio/*,.mp3,.wav,.ogg,.opus,.m4a,.aac,.flac' }));
    const zone = /** @type {HTMLSelectElement} */ (h('select', { name: 'zoneId', required: true }));
    uploadZone = zone;
    const title = /** @type {HTMLInputElement} */ (h('input', { name: 'title', maxlength: 200 }));
    const progress = /** @type {HTMLProgressElement} */ (h('progress', { max: 100, value: 0, hidden: true }));
    const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary' }, t('media_upload_submit')));
    form = h(
      'form',
      {
        class: 'card form-grid',
        onsubmit: async (/** @type {Event} */ ev) => {
          ev.preventDefault();
          formMessage.clear();
          const chosen = file.files?.[0];
          if (!chosen) return formMessage.error(t('media_pick_file'));
          const body = new FormData();
          // Fields first: the server checks the zone before it reads the file.
          body.append('zoneId', zone.value);
          if (title.value.trim()) body.append('title', title.value.trim());
          body.append('file', chosen, chosen.name);
          submit.disabled = true;
          progress.hidden = false;
          progress.value = 0;
          try {
            const created = await upload('/media', body, (sent, total) => {
              const percent = Math.floor((sent / total) * 100);
              progress.value = percent;
              formMessage.info(percent >= 100 ? t('media_checking') : t('media_uploading', { percent }));
            });
            formMessage.ok(t('media_uploaded', { title: created.title, duration: formatDuration(created.durationMs) }));
            file.value = '';
            title.value = '';
            await refresh();
          } catch (err) {
            formMessage.error(/** @type {Error} */ (err).message);
          } finally {
            submit.disabled = false;
            progress.hidden = true;
          }
        },
      },
      h('h2', null, t('media_upload')),
      field(t('media_file'), file),
      field(t('media_zone'), zone),
      field(`${t('media_item_title')} ${t('optional')}`, title),
      progress,
      formMessage.el,
      h('div', { class: 'actions' }, submit),
    );
  }

  main.append(
    h('div', { class: 'page-head' }, h('h1', null, t('media_title')), h('button', { type: 'button', onclick: () => refresh() }, t('refresh'))),
    form,
    message.el,
    player,
    listBox,
  );
  replace(listBox, h('p', { class: 'muted' }, t('loading')));
  void refresh();
  return stopPreview;
}
