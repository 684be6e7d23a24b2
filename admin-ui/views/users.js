// @ts-check
// Users and their roles (admins only): create a user with a role at a zone, add or remove roles.
import { h, field, notice, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { loadZones } from '../data.js';
import { buildTree, zoneOptions } from '../zone-tree.js';
import { canAt, canEverywhere, currentUser } from '../session.js';
import { table } from '../table.js';

const ROLES = ['operator', 'viewer', 'authority', 'admin'];

/** A role select and a zone select (with "everywhere" for a system-wide admin). @param {import('../zone-tree.js').Tree} tree @param {string} prefix */
function grantControls(tree, prefix) {
  const role = /** @type {HTMLSelectElement} */ (h('select', { name: `${prefix}-role` }, ROLES.map((r) => h('option', { value: r }, t(`role_${r}`)))));
  const zone = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: `${prefix}-zone` },
      canEverywhere('users.manage') ? h('option', { value: '' }, t('user_everywhere')) : null,
      zoneOptions(tree, (z) => canAt('users.manage', z)),
    )
  );
  return { role, zone, value: () => ({ role: role.value, zoneId: zone.value || null }) };
}

/** @param {HTMLElement} main */
export function render(main) {
  const message = notice();
  const listBox = h('div', { class: 'list-box' });
  const formBox = h('div');
  /** @type {import('../zone-tree.js').Tree | null} */
  let tree = null;

  const zoneName = (/** @type {string | null} */ id) => (id === null ? t('user_everywhere') : tree?.byId.get(id)?.zone.name ?? id);

  const refresh = async () => {
    try {
      const users = await api('GET', '/users');
      const me = currentUser();
      replace(
        listBox,
        table(
          [
            { label: t('col_username'), cell: (u) => [h('strong', null, u.username), u.disabled ? [' ', h('span', { class: 'badge badge-offline' }, t('user_disabled'))] : null] },
            { label: t('user_display_name'), cell: (u) => u.displayName },
            {
              label: t('col_roles'),
              cell: (u) =>
                h(
                  'ul',
                  { class: 'grants' },
                  u.roles.map((/** @type {any} */ g) =>
                    h(
                      'li',
                      null,
                      `${t(`role_${g.role}`)} · ${zoneName(g.zoneId)} `,
                      h(
                        'button',
                        {
                          type: 'button',
                          class: 'small danger',
                          'aria-label': t('user_remove_role', { role: t(`role_${g.role}`), zone: zoneName(g.zoneId) }),
                          onclick: async () => {
                            try {
                              await api('DELETE', `/users/${encodeURIComponent(u.id)}/roles/${encodeURIComponent(g.id)}`);
                              await refresh();
                            } catch (err) {
                              message.error(/** @type {Error} */ (err).message);
                            }
                          },
                        },
                        '✕',
                      ),
                    ),
                  ),
                  tree ? h('li', null, addRole(u)) : null,
                ),
            },
            {
              label: t('col_actions'),
              className: 'row-actions',
              cell: (u) =>
                u.id === me?.id
                  ? null
                  : h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        onclick: async () => {
                          if (!confirm(t('user_delete_confirm', { name: u.username }))) return;
                          try {
                            await api('DELETE', `/users/${encodeURIComponent(u.id)}`);
                            await refresh();
                          } catch (err) {
                            message.error(/** @type {Error} */ (err).message);
                          }
                        },
                      },
                      t('delete'),
                    ),
            },
          ],
          users,
          (u) => ({ 'data-user-id': u.id }),
        ),
      );
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
  };

  /** @param {any} u */
  const addRole = (u) => {
    const g = grantControls(/** @type {any} */ (tree), `add-${u.id}`);
    return h(
      'form',
      {
        class: 'inline-form',
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          try {
            await api('POST', `/users/${encodeURIComponent(u.id)}/roles`, g.value());
            await refresh();
          } catch (err) {
            message.error(/** @type {Error} */ (err).message);
          }
        },
      },
      h('label', { class: 'visually-hidden', for: (g.role.id = `ar-${u.id}`) }, t('user_role')),
      g.role,
      h('label', { class: 'visually-hidden', for: (g.zone.id = `az-${u.id}`) }, t('user_zone')),
      g.zone,
      h('button', { type: 'submit', class: 'small' }, t('user_add_role')),
    );
  };

  const drawForm = () => {
    if (!tree) return;
    const formMessage = notice();
    const username = /** @type {HTMLInputElement} */ (h('input', { name: 'username', required: true, maxlength: 100, pattern: '[A-Za-z0-9._@\\-]+', autocapitalize: 'none', autocomplete: 'off' }));
    const displayName = /** @type {HTMLInputElement} */ (h('input', { name: 'displayName', maxlength: 200 }));
    const password = /** @type {HTMLInputElement} */ (h('input', { name: 'password', type: 'password', required: true, minlength: 8, autocomplete: 'new-password' }));
    const g = grantControls(tree, 'new');
    const submit = h('button', { type: 'submit', class: 'primary' }, t('create'));
    replace(
      formBox,
      h(
        'form',
        {
          class: 'card form-grid',
          onsubmit: async (/** @type {Event} */ e) => {
            e.preventDefault();
            formMessage.clear();
            try {
              const created = await api('POST', '/users', {
                username: username.value.trim(),
                ...(displayName.value.trim() && { displayName: displayName.value.trim() }),
                password: password.value,
                roles: [g.value()],
              });
              formMessage.ok(t('user_created', { name: created.username }));
              username.value = '';
              displayName.value = '';
              password.value = '';
              await refresh();
            } catch (err) {
              formMessage.error(/** @type {Error} */ (err).message);
            }
          },
        },
        h('h2', null, t('users_new')),
        field(t('user_username'), username),
        field(t('user_display_name'), displayName),
        field(t('user_password'), password),
        field(t('user_role'), g.role),
        field(t('user_zone'), g.zone),
        formMessage.el,
        h('div', { class: 'actions' }, submit),
      ),
    );
  };

  main.append(h('div', { class: 'page-head' }, h('h1', null, t('users_title'))), message.el, listBox, formBox);
  replace(listBox, h('p', { class: 'muted' }, t('loading')));
  void (async () => {
    try {
      tree = buildTree(await loadZones());
      drawForm();
    } catch (err) {
      message.error(/** @type {Error} */ (err).message);
    }
    await refresh();
  })();
}
