// @ts-check
// The login form. The server's own sentence is shown on refusal (it speaks the language the
// app asked for), so a wrong password reads "Tên đăng nhập hoặc mật khẩu không đúng."
import { h, field, notice } from '../dom.js';
import { t } from '../i18n.js';
import { login } from '../session.js';

/** @param {{ note?: string, onLoggedIn: () => void }} opts */
export function renderLogin({ note, onLoggedIn }) {
  const username = /** @type {HTMLInputElement} */ (
    h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' })
  );
  const password = /** @type {HTMLInputElement} */ (h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }));
  const message = notice();
  if (note) message.info(note);
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary big' }, t('login_submit')));

  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault();
        message.clear();
        submit.disabled = true;
        submit.textContent = t('login_busy');
        try {
          await login(username.value.trim(), password.value);
          onLoggedIn();
        } catch (err) {
          message.error(/** @type {Error} */ (err).message);
          password.value = '';
          password.focus();
        } finally {
          submit.disabled = false;
          submit.textContent = t('login_submit');
        }
      },
    },
    h('h1', null, t('login_title')),
    h('p', { class: 'muted' }, t('app_tagline')),
    field(t('login_username'), username),
    field(t('login_password'), password),
    message.el,
    submit,
  );
  queueMicrotask(() => username.focus());
  return h('main', { id: 'main', class: 'login-page' }, form);
}
