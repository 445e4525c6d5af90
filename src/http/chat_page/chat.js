// The chat page's behaviour. Plain DOM, no framework: every text from the server goes in through
// textContent, never as HTML. Its wording comes from the server (`chat-text.js`, made from the
// reviewed content); `page.js` sets up what it shares with the console.
'use strict';
(() => {
  const page = window.pageKit(window.CHAT_TEXT, 'cbln.language');
  const { $, t, errorText, Failure, failureOf, setStatus, store } = page;
  const { serverEvents } = window;
  // sessionStorage, not localStorage: the token dies with the tab, and quick exit clears it.
  const TOKEN = 'cbln.session_token';
  const EXIT_WITHIN_MS = 1000;
  const HISTORY_LIMIT = 200;
  // Who wrote a message of `role`, as this page names them.
  const SPEAKERS = { user: 'you', counsellor: 'counsellor' };
  const speaker = (role) => t(SPEAKERS[role] ?? 'listener');

  const log = $('log');
  const form = $('composer');
  const input = $('message');
  const sendButton = $('send');
  const welcome = $('welcome');
  const deleteButton = $('delete');
  const deleteConfirm = $('delete-confirm');

  let token = store.getItem(TOKEN);
  let busy = false;

  // An Idempotency-Key: crypto.randomUUID exists only in secure contexts, so plain HTTP builds
  // the same version-4 UUID from getRandomValues.
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function forgetSession() {
    token = null;
    store.removeItem(TOKEN);
    handoff.reset();
  }

  // `follow`: bring the new message into view; false while a crisis card above it must stay
  // in sight.
  function addMessage(role, text, follow = true) {
    const item = document.createElement('div');
    item.className = `message ${role}`;
    const who = document.createElement('span');
    who.className = 'visually-hidden';
    who.textContent = `${speaker(role)}: `;
    const body = document.createElement('p');
    body.className = 'text';
    body.textContent = text;
    item.append(who, body);
    log.append(item);
    welcome.hidden = true;
    if (follow) item.scrollIntoView({ block: 'end' });
    return item;
  }

  function showNotice(item, notice) {
    if (!notice || !notice.text) return;
    const note = document.createElement('p');
    note.className = `notice ${notice.kind}`;
    note.setAttribute('role', 'note');
    note.textContent = notice.text;
    item.append(note);
  }

  function telHref(number) {
    return `tel:${String(number).replace(/[^0-9+]/g, '')}`;
  }

  // The crisis card, or (with another `title`) the hotline card when no counsellor can come.
  function showCrisisCard(info, title = t('crisis_title')) {
    const card = document.createElement('section');
    card.className = 'crisis';
    card.setAttribute('role', 'alert');
    const headingId = `crisis-${log.childElementCount}`;
    card.setAttribute('aria-labelledby', headingId);
    const heading = document.createElement('h2');
    heading.id = headingId;
    heading.textContent = title;
    const priority = document.createElement('p');
    priority.className = 'priority';
    priority.textContent = info.priority_message;
    const lines = document.createElement('ul');
    lines.className = 'hotlines';
    const hotlines = [...(info.hotlines || [])].sort((a, b) => a.priority - b.priority);
    for (const line of hotlines) {
      const entry = document.createElement('li');
      const call = document.createElement('a');
      call.className = 'call';
      call.href = telHref(line.number);
      call.textContent = `${t('call')} ${line.name}: ${line.number}`;
      const about = document.createElement('p');
      about.className = 'about';
      about.textContent = [line.description, line.available, line.free ? t('free') : '']
        .filter(Boolean)
        .join(' · ');
      entry.append(call, about);
      lines.append(entry);
    }
    card.append(heading, priority, lines);
    if (info.immediate_actions && info.immediate_actions.length) {
      const stepsTitle = document.createElement('h3');
      stepsTitle.textContent = t('crisis_steps');
      const steps = document.createElement('ul');
      for (const action of info.immediate_actions) {
        const step = document.createElement('li');
        step.textContent = action;
        steps.append(step);
      }
      card.append(stepsTitle, steps);
    }
    if (info.reassurance) {
      const reassurance = document.createElement('p');
      reassurance.textContent = info.reassurance;
      card.append(reassurance);
    }
    log.append(card);
    card.scrollIntoView({ block: 'start' });
  }

  async function ensureSession() {
    if (token) return token;
    const response = await fetch('/api/v1/sessions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ language_preference: page.language() }),
    });
    if (!response.ok) throw await failureOf(response);
    const created = await response.json();
    token = created.session.session_token;
    store.setItem(TOKEN, token);
    return token;
  }

  function finishReply(item, answer, replaced) {
    // A counsellor is answering: the listener stays quiet.
    if (answer.ai_message === null) {
      item.remove();
      return;
    }
    const content = answer.ai_message && answer.ai_message.content;
    item.querySelector('.text').textContent = content ?? t('unreadable');
    item.removeAttribute('aria-busy');
    if (replaced) setStatus(t('replaced'));
    showNotice(item, answer.notice);
  }

  // One post of one message. `pending.key` stays the same across retries, so a server that has
  // already taken the message does not take it twice.
  async function deliver(pending) {
    busy = true;
    sendButton.disabled = true;
    // What the status line says of this post, to clear once it is done (and not what came since).
    let progress = setStatus(t('sending'));
    pending.retry?.remove();
    let reply = null;
    try {
      const session = await ensureSession();
      const response = await fetch('/api/v1/messages', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'text/event-stream',
          Authorization: `Bearer ${session}`,
          'Idempotency-Key': pending.key,
        },
        body: JSON.stringify({ content: pending.text }),
      });
      if (!response.ok) throw await failureOf(response);
      const type = response.headers.get('Content-Type') || '';
      if (!type.startsWith('text/event-stream')) {
        const posted = await response.json();
        if (posted.crisis_info) showCrisisCard(posted.crisis_info);
        finishReply(addMessage('assistant', '', !posted.crisis_info), posted, false);
        setStatus('');
        return;
      }
      let finished = false;
      for await (const event of serverEvents(response.body)) {
        if (event.name === 'message.accepted') {
          const card = event.data.crisis_info;
          if (card) showCrisisCard(card);
          reply = addMessage('assistant', '', !card);
          reply.setAttribute('aria-busy', 'true');
          progress = setStatus(t('replying'));
        } else if (event.name === 'reply.delta' && reply) {
          reply.querySelector('.text').textContent += event.data.text;
        } else if (event.name === 'reply.completed' || event.name === 'reply.replaced') {
          if (!reply) reply = addMessage('assistant', '', false);
          finishReply(reply, event.data, event.name === 'reply.replaced');
          finished = true;
        } else if (event.name === 'error') {
          throw new Failure(event.data.error || 'default');
        }
      }
      if (!finished) throw new Failure('interrupted');
      page.clearStatus(progress);
    } catch (error) {
      const code = error instanceof Failure ? error.code : 'interrupted';
      if (code === 'session_not_found' || code === 'session_expired' || code === 'session_required') {
        forgetSession();
      }
      reply?.remove();
      offerRetry(pending, code);
    } finally {
      busy = false;
      sendButton.disabled = false;
    }
  }

  function offerRetry(pending, code) {
    setStatus(errorText(code));
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'retry';
    retry.textContent = t('retry');
    retry.addEventListener('click', () => {
      if (!busy) deliver(pending);
    });
    pending.item.append(retry);
    pending.retry = retry;
  }

  function submit() {
    const text = input.value.trim();
    if (busy) return;
    if (!text) {
      setStatus(t('empty'));
      return;
    }
    input.value = '';
    const pending = { text, key: newKey(), item: addMessage('user', text), retry: null };
    deliver(pending);
  }

  // A page reloaded in the same tab shows its conversation again.
  async function restore() {
    if (!token) return;
    try {
      const response = await fetch(`/api/v1/messages?limit=${HISTORY_LIMIT}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (!response.ok) {
        if (response.status === 404 || response.status === 401) forgetSession();
        return;
      }
      const history = await response.json();
      for (const message of history.messages) {
        addMessage(message.role, message.content ?? t('unreadable'));
      }
      handoff.restore();
    } catch {
      // Offline: the next send says so.
    }
  }

  // Quick exit: the beacon is sent even as the page unloads; the page keeps nothing of the
  // conversation, and `replace` leaves no entry for the back button.
  function quickExit() {
    const leaving = token;
    try {
      if (leaving) {
        const body = JSON.stringify({ session_token: leaving });
        const beaconed = navigator.sendBeacon && navigator.sendBeacon('/api/v1/sessions/exit', body);
        if (!beaconed) {
          fetch('/api/v1/sessions/exit', {
            method: 'POST',
            keepalive: true,
            headers: { 'Content-Type': 'application/json' },
            body,
          }).catch(() => {});
        }
      }
    } finally {
      token = null;
      try {
        store.clear();
        window.localStorage.clear();
      } catch {
        // Storage may be disabled; there is then nothing to clear.
      }
      log.replaceChildren();
      input.value = '';
      window.location.replace(document.body.dataset.exitUrl);
    }
  }

  async function deleteConversation() {
    if (token) {
      try {
        const response = await fetch('/api/v1/sessions', {
          method: 'DELETE',
          headers: { Authorization: `Bearer ${token}` },
        });
        if (!response.ok && response.status !== 404 && response.status !== 401) {
          setStatus(t('delete_failed'));
          return;
        }
      } catch {
        setStatus(t('delete_failed'));
        return;
      }
    }
    forgetSession();
    log.replaceChildren();
    welcome.hidden = false;
    closeDeleteConfirm();
    setStatus(t('deleted'));
    input.focus();
  }

  // While a deletion is being confirmed nothing else is offered, and the footer keeps to the
  // height a small phone has room for.
  function openDeleteConfirm() {
    handoff.setHidden(true);
    deleteConfirm.hidden = false;
    deleteButton.setAttribute('aria-expanded', 'true');
    $('delete-yes').focus();
  }

  function closeDeleteConfirm() {
    handoff.setHidden(false);
    deleteConfirm.hidden = true;
    deleteButton.setAttribute('aria-expanded', 'false');
  }

  let lastEscape = 0;
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    const now = Date.now();
    if (now - lastEscape <= EXIT_WITHIN_MS) {
      quickExit();
      return;
    }
    lastEscape = now;
    if (!deleteConfirm.hidden) {
      closeDeleteConfirm();
      deleteButton.focus();
    } else {
      handoff.closePanel();
    }
  });

  $('quick-exit').addEventListener('click', quickExit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  deleteButton.addEventListener('click', openDeleteConfirm);
  $('delete-yes').addEventListener('click', deleteConversation);
  $('delete-no').addEventListener('click', () => {
    closeDeleteConfirm();
    deleteButton.focus();
  });

  // Asking for a counsellor (handoff.js) works through these.
  const handoff = window.handoffPanel({
    page,
    speaker,
    session: () => token,
    ensureSession,
    addMessage,
    showCard: showCrisisCard,
    historyLimit: HISTORY_LIMIT,
  });

  page.applyLanguage();
  restore();
})();
