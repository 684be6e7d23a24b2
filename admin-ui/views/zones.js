// @ts-check
// The zone tree: kinds, endpoints online/total per subtree, an on-air badge per zone;
// refreshed every few seconds while shown.
import { h, notice, replace } from '../dom.js';
import { t } from '../i18n.js';
import { formatTime } from '../format.js';
import { loadEndpoints, loadOnAir, loadZones, poll } from '../data.js';
import { buildTree, expandTo, flatten, renderZoneTree } from '../zone-tree.js';

/** Which branches are open survives leaving the page and coming back. */
const expanded = new Set();
let firstLook = true;

/** @param {HTMLElement} main */
export function render(main) {
  const message = notice();
  const treeBox = h('div', { class: 'tree-box', 'aria-live': 'off' });
  const updated = h('p', { class: 'muted small' });
  /** @type {import('../zone-tree.js').Tree | null} */
  let tree = null;
  /** @type {Map<string, any> | undefined} */
  let onAir;
  let lastSignature = '';

  const draw = () => {
    if (!tree) return;
    if (tree.roots.length === 0) return replace(treeBox, h('p', { class: 'muted' }, t('zones_empty')));
    replace(
      treeBox,
      renderZoneTree(tree, {
        expanded,
        onAir,
        extra: (node) =>
          node.total > 0 ? h('a', { class: 'tree-link', href: `#/endpoints?zone=${encodeURIComponent(node.zone.id)}` }, t('zones_show_endpoints')) : null,
      }),
    );
  };

  main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, t('zones_title')),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              if (tree) for (const n of flatten(tree)) if (n.children.length) expanded.add(n.zone.id);
              draw();
            },
          },
          t('zones_expand_all'),
        ),
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              expanded.clear();
              draw();
            },
          },
          t('zones_collapse_all'),
        ),
      ),
    ),
    h(
      'p',
      { class: 'legend' },
      t('zones_legend'),
      ' ',
      h('span', { class: 'count count-all' }, t('status_online')),
      ' ',
      h('span', { class: 'count count-some' }, t('status_partly')),
      ' ',
      h('span', { class: 'count count-none' }, t('status_offline')),
      ' ',
      h('span', { class: 'badge badge-onair' }, t('status_on_air')),
    ),
    message.el,
    treeBox,
    updated,
  );
  replace(treeBox, h('p', { class: 'muted' }, t('loading')));

  return poll(async () => {
    try {
      const [zones, endpoints, air] = await Promise.all([loadZones(), loadEndpoints(), loadOnAir()]);
      updated.textContent = t('zones_updated', { time: formatTime(new Date()) });
      // Redraw only on change, so that a refresh never steals the keyboard focus.
      const signature = JSON.stringify([zones, endpoints.map((/** @type {any} */ e) => [e.id, e.zoneId, e.online]), air ? [...air] : null]);
      if (signature === lastSignature) return;
      lastSignature = signature;
      tree = buildTree(zones, endpoints);
      onAir = air ?? undefined;
      if (firstLook) {
        expandTo(tree, expanded, 2);
        firstLook = false;
      }
      message.clear();
      draw();
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
      throw err;
    }
  }, 5000);
}
