/* "Forget me" (on the privacy page and the participant page): DELETE
 * /api/v1/events/<code>/me, then clear what this phone keeps for the event: the saved
 * name, the consent, drafts, the outbox and notices. On the participant page the page
 * starts again as the stranger the server now sees, with ?forgotten=1 so that the
 * confirmation is still there after the reload. */
import { $, api, store } from './lib.js';

/* Every key this phone keeps for an event (and the older keys shared by all events). */
export function forgetLocally(code) {
  for (const key of store.keys()) {
    if (!key.startsWith('dq:')) continue;
    const parts = key.split(':');
    if (parts.includes(code) || key === 'dq:name' || key === 'dq:consent') store.del(key);
  }
}

const button = $('forget-me'), status = $('forget-me-status');
if (button && status) {
  button.addEventListener('click', async () => {
    if (!window.confirm(button.dataset.confirm)) return;
    const code = button.dataset.code;
    button.disabled = true;
    const r = await api('DELETE', '/api/v1/events/' + encodeURIComponent(code) + '/me');
    if (!r.ok) {
      status.textContent = button.dataset.failed;
      button.disabled = false;
      return;
    }
    // The participant page stops writing to storage first, then everything goes.
    document.dispatchEvent(new CustomEvent('dq:forgotten', { detail: { code } }));
    forgetLocally(code);
    status.textContent = button.dataset.done;
    if (button.dataset.reload) {
      const url = new URL(window.location.href);
      url.searchParams.set('forgotten', '1');
      url.hash = '';
      window.setTimeout(() => window.location.replace(url.toString()), 1200);
    } else {
      button.disabled = false;
    }
  });
}
