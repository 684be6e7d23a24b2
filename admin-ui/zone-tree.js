// @ts-check
// The zone tree from the server's flat list (parentId links): any depth, children sorted by
// name, endpoint counts summed over each subtree. Rendered as nested lists with disclosure
// buttons; optionally with checkboxes (choosing a zone covers its whole subtree, so the boxes
// below a checked one are shown checked and locked).
import { h } from './dom.js';
import { t } from './i18n.js';
import { formatNumber, priorityLabel, zoneKind } from './format.js';

/**
 * @typedef {import('./session.js').Zone} Zone
 * @typedef {{ zone: Zone, children: TreeNode[], depth: number, online: number, total: number }} TreeNode
 * @typedef {{ roots: TreeNode[], byId: Map<string, TreeNode> }} Tree
 * @typedef {{ zoneId: string, programmeId: string | null, title: string | null, priority: string | number | null }} OnAir
 */

const collator = new Intl.Collator('vi', { numeric: true, sensitivity: 'base' });

/**
 * @param {Zone[]} zones
 * @param {{ zoneId: string, online: boolean }[]} [endpoints]
 * @returns {Tree}
 */
export function buildTree(zones, endpoints = []) {
  /** @type {Map<string, TreeNode>} */
  const byId = new Map();
  for (const zone of zones) byId.set(zone.id, { zone, children: [], depth: 0, online: 0, total: 0 });
  /** @type {TreeNode[]} */
  const roots = [];
  for (const node of byId.values()) {
    // A zone whose parent the user cannot see is a root of what they see.
    const parent = node.zone.parentId ? byId.get(node.zone.parentId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const sort = (/** @type {TreeNode[]} */ list, depth = 0) => {
    list.sort((a, b) => collator.compare(a.zone.name, b.zone.name));
    for (const n of list) {
      n.depth = depth;
      sort(n.children, depth + 1);
    }
  };
  sort(roots);
  for (const e of endpoints) {
    // Count the endpoint in its zone and every visible ancestor.
    for (let n = byId.get(e.zoneId); n; n = n.zone.parentId ? byId.get(n.zone.parentId) : undefined) {
      n.total += 1;
      if (e.online) n.online += 1;
    }
  }
  return { roots, byId };
}

/** Nodes in display order (depth first). @param {Tree} tree @returns {TreeNode[]} */
export function flatten(tree) {
  /** @type {TreeNode[]} */
  const out = [];
  const walk = (/** @type {TreeNode[]} */ list) => {
    for (const n of list) {
      out.push(n);
      walk(n.children);
    }
  };
  walk(tree.roots);
  return out;
}

/**
 * <option>s for a zone <select>, indented by depth.
 * @param {Tree} tree
 * @param {(zone: Zone) => boolean} [allowed]
 * @param {string} [selected]
 */
export function zoneOptions(tree, allowed = () => true, selected) {
  return flatten(tree)
    .filter((n) => allowed(n.zone))
    .map((n) =>
      h('option', { value: n.zone.id, selected: n.zone.id === selected }, `${'\u00a0\u00a0'.repeat(n.depth)}${n.zone.name} · ${zoneKind(n.zone.kind)}`),
    );
}

/** Whether an ancestor of `id` is in `set`. @param {Tree} tree @param {string} id @param {Set<string>} set */
export function coveredByAncestor(tree, id, set) {
  for (let n = tree.byId.get(id); n?.zone.parentId; ) {
    if (set.has(n.zone.parentId)) return true;
    n = tree.byId.get(n.zone.parentId);
  }
  return false;
}

/**
 * @param {Tree} tree
 * @param {{
 *   expanded: Set<string>,
 *   onAir?: Map<string, OnAir>,
 *   checkable?: (zone: Zone) => boolean,
 *   checked?: Set<string>,
 *   onCheck?: () => void,
 *   extra?: (node: TreeNode) => HTMLElement | null,
 * }} opts
 * @returns {HTMLElement}
 */
export function renderZoneTree(tree, opts) {
  const rootList = h('ul', { class: 'tree', role: 'list' });
  const rerender = () => rootList.replaceWith(renderZoneTree(tree, opts));

  const renderNode = (/** @type {TreeNode} */ node) => {
    const { zone } = node;
    const hasChildren = node.children.length > 0;
    const open = opts.expanded.has(zone.id);
    const air = opts.onAir?.get(zone.id);
    const onAir = air && air.programmeId;

    const toggle = hasChildren
      ? h(
          'button',
          {
            type: 'button',
            class: 'tree-toggle',
            'aria-expanded': String(open),
            'aria-label': t(open ? 'zones_collapse' : 'zones_expand', { name: zone.name }),
            onclick: () => {
              if (open) opts.expanded.delete(zone.id);
              else opts.expanded.add(zone.id);
              rerender();
            },
          },
          h('span', { 'aria-hidden': 'true' }, open ? '▾' : '▸'),
        )
      : h('span', { class: 'tree-toggle tree-leaf', 'aria-hidden': 'true' }, '•');

    let check = null;
    if (opts.checkable && opts.checked) {
      const checked = opts.checked;
      const covered = coveredByAncestor(tree, zone.id, checked);
      const allowed = opts.checkable(zone);
      check = h('input', {
        type: 'checkbox',
        class: 'tree-check',
        'aria-label': zone.name,
        'data-zone-id': zone.id,
        checked: covered || checked.has(zone.id),
        disabled: covered || !allowed,
        onchange: (/** @type {Event} */ e) => {
          const box = /** @type {HTMLInputElement} */ (e.target);
          if (box.checked) {
            checked.add(zone.id);
            // Descendants are covered now; keep only the top-most choice.
            for (const id of [...checked]) if (id !== zone.id && coveredByAncestor(tree, id, checked)) checked.delete(id);
          } else checked.delete(zone.id);
          opts.onCheck?.();
          rerender();
        },
      });
    }

    const label = check
      ? h('label', { class: 'tree-name', for: undefined }, check, ' ', zone.name)
      : h('span', { class: 'tree-name' }, zone.name);

    const counts =
      node.total > 0
        ? h(
            'span',
            {
              class: `count ${node.online === node.total ? 'count-all' : node.online === 0 ? 'count-none' : 'count-some'}`,
              title: t('zones_online_title', { online: node.online, total: node.total }),
            },
            t('zones_online_count', { online: formatNumber(node.online, 0), total: formatNumber(node.total, 0) }),
          )
        : null;

    const badge = onAir
      ? h(
          'span',
          {
            class: 'badge badge-onair',
            title: t('status_on_air_title', { title: air.title ?? '', priority: air.priority === null ? '' : priorityLabel(air.priority) }),
          },
          t('status_on_air'),
        )
      : null;

    const row = h(
      'div',
      { class: `tree-row${onAir ? ' is-onair' : ''}`, 'data-zone-id': zone.id },
      toggle,
      label,
      h('span', { class: 'kind' }, zoneKind(zone.kind)),
      badge,
      counts,
      opts.extra ? opts.extra(node) : null,
    );
    return h(
      'li',
      { class: 'tree-item' },
      row,
      hasChildren && open ? h('ul', { class: 'tree', role: 'list' }, node.children.map(renderNode)) : null,
    );
  };

  for (const n of tree.roots) rootList.appendChild(renderNode(n));
  return rootList;
}

/** Opens the top levels (what a first look needs), leaving deep branches closed. @param {Tree} tree @param {Set<string>} expanded @param {number} depth */
export function expandTo(tree, expanded, depth) {
  for (const n of flatten(tree)) if (n.depth < depth && n.children.length) expanded.add(n.zone.id);
}
