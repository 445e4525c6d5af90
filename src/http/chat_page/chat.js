// The chat page's behaviour. Plain DOM, no framework: every text from the server goes in through
// textContent, never as HTML.
'use strict';
(() => {
  const TEXT = window.CHAT_TEXT;
  const { serverEvents } = window;
  // sessionStorage, not localStorage: the token dies with the tab, and quick exit clears it.
  const store = window.sessionStorage;
  const TOKEN = 'cbln.session_token';
  const LANGUAGE = 'cbln.language';
  const ASKED = 'cbln.asked_for_person';
  const RECONNECT_MS = 3000;
  const EXIT_WITHIN_MS = 1000;

  const $ = (id) => document.getElementById(id);
  const log = $('log');
  const form = $('composer');
  const input = $('message');
  const sendButton = $('send');
  const status = $('status');
  const welcome = $('welcome');
  const languageButton = $('language');
  const deleteButton = $('delete');
  const deleteConfirm = $('delete-confirm');
  const askButton = $('ask-person');

  let language = store.getItem(LANGUAGE) === 'en' ? 'en' : 'vi';
  let token = store.getItem(TOKEN);
  let busy = false;
  let listening = null;
  let lastEventId = null;

  const t = (key) => TEXT[language][key] ?? TEXT.vi[key] ?? key;
  const errorText = (code) => TEXT[language].errors[code] ?? TEXT[language].errors.default;

  function applyLanguage() {
    document.documentElement.lang = language;
    document.title = t('title');
    for (const element of document.querySelectorAll('[data-text]')) {
      element.textContent = t(element.dataset.text);
    }
    languageButton.textContent = t('otherLanguage');
    languageButton.lang = t('otherLanguageCode');
  }

  function setStatus(text) {
    status.textContent = text;
  }

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
    store.removeItem(ASKED);
    stopListening();
    askButton.disabled = false;
  }

  // `follow`: bring the new message into view; false while a crisis card above it must stay
  // in sight.
  function addMessage(role, text, follow = true) {
    const item = document.createElement('div');
    item.className = `message ${role}`;
    const who = document.createElement('span');
    who.className = 'visually-hidden';
    const name = { user: 'you', counsellor: 'counsellor' }[role] ?? 'listener';
    who.textContent = `${t(name)}: `;
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

  function showCrisisCard(info) {
    const card = document.createElement('section');
    card.className = 'crisis';
    card.setAttribute('role', 'alert');
    const headingId = `crisis-${log.childElementCount}`;
    card.setAttribute('aria-labelledby', headingId);
    const heading = document.createElement('h2');
    heading.id = headingId;
    heading.textContent = t('crisisTitle');
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
      stepsTitle.textContent = t('crisisSteps');
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

  class Failure extends Error {
    constructor(code) {
      super(code);
      this.code = code;
    }
  }

  async function failureOf(response) {
    try {
      const body = await response.json();
      return new Failure(body.error || 'default');
    } catch {
      return new Failure('default');
    }
  }

  async function ensureSession() {
    if (token) return token;
    const response = await fetch('/api/v1/sessions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ language_preference: language }),
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
    setStatus(t('sending'));
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
          setStatus(t('replying'));
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
      if (status.textContent === t('replying')) setStatus('');
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

  // A counsellor's answers arrive on the session's event stream (read from a fetch body, so the
  // token stays out of the address); the page's own posts already show their messages, so only
  // the counsellor's are added from it. Reopened after a drop, resuming from the last event seen.
  async function listenForCounsellor() {
    if (listening || !token) return;
    const controller = new AbortController();
    listening = controller;
    let retry = false;
    try {
      const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const response = await fetch('/api/v1/events', { headers, signal: controller.signal });
      if (response.ok) {
        retry = true;
        for await (const event of serverEvents(response.body)) {
          if (event.id) lastEventId = event.id;
          if (event.name === 'message.created' && event.data.role === 'counsellor') {
            addMessage('counsellor', event.data.content ?? t('unreadable'));
          } else if (event.name === 'session.ended') {
            retry = false;
          }
        }
      }
    } catch {
      // Offline or stopped: retried below unless stopped.
      retry = retry || !controller.signal.aborted;
    }
    if (listening !== controller) return;
    listening = null;
    if (retry && !controller.signal.aborted) setTimeout(listenForCounsellor, RECONNECT_MS);
  }

  function stopListening() {
    listening?.abort();
    listening = null;
    lastEventId = null;
  }

  // "Talk to a person": shares nothing of the conversation; the counsellor answers here.
  async function askForPerson() {
    askButton.disabled = true;
    try {
      const session = await ensureSession();
      listenForCounsellor();
      const response = await fetch('/api/v1/handoff', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${session}` },
        body: JSON.stringify({ share: 'none' }),
      });
      if (!response.ok) throw await failureOf(response);
      const answer = await response.json();
      if (answer.handoff.status === 'unavailable') {
        stopListening();
        setStatus(t('personUnavailable'));
        const card = answer.crisis_card;
        if (card) showCrisisCard({ priority_message: card.message, hotlines: card.hotlines });
        askButton.disabled = false;
        return;
      }
      store.setItem(ASKED, '1');
      setStatus(t('personWaiting'));
    } catch (error) {
      const code = error instanceof Failure ? error.code : 'default';
      if (code === 'handoff_exists') {
        setStatus(t('personWaiting'));
        return;
      }
      stopListening();
      setStatus(errorText(code));
      askButton.disabled = false;
    }
  }

  // A page reloaded in the same tab shows its conversation again.
  async function restore() {
    if (!token) return;
    try {
      const response = await fetch('/api/v1/messages?limit=200', {
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
      if (store.getItem(ASKED)) listenForCounsellor();
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
          setStatus(t('deleteFailed'));
          return;
        }
      } catch {
        setStatus(t('deleteFailed'));
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
    askButton.hidden = true;
    deleteConfirm.hidden = false;
    deleteButton.setAttribute('aria-expanded', 'true');
    $('delete-yes').focus();
  }

  function closeDeleteConfirm() {
    askButton.hidden = false;
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
  languageButton.addEventListener('click', () => {
    language = language === 'vi' ? 'en' : 'vi';
    store.setItem(LANGUAGE, language);
    applyLanguage();
  });
  deleteButton.addEventListener('click', openDeleteConfirm);
  askButton.addEventListener('click', askForPerson);
  $('delete-yes').addEventListener('click', deleteConversation);
  $('delete-no').addEventListener('click', () => {
    closeDeleteConfirm();
    deleteButton.focus();
  });

  applyLanguage();
  restore();
})();
