// The staff console's behaviour. Plain DOM, no framework: every text from the server goes in
// through textContent, never as HTML. The staff token lives in this tab's sessionStorage only and
// is sent as `Authorization: Bearer`, so the event stream is followed from a fetch body
// (server-events.js; EventSource cannot send headers).
'use strict';
(() => {
  const page = window.pageKit(window.STAFF_TEXT, 'cbln.staff_language');
  const { $, t, errorText, errorOf, Failure, failureOf, setStatus, store } = page;
  const TOKEN = 'cbln.staff_token';
  const CURRENT = 'cbln.staff_handoff';

  const loginForm = $('login');
  const consoleView = $('console');
  const queueList = $('queue');
  const queueEmpty = $('queue-empty');
  const conversation = $('conversation');
  const about = $('conversation-about');
  const log = $('log');
  const reply = $('reply');
  const signOutButton = $('sign-out');

  let token = store.getItem(TOKEN);
  let current = store.getItem(CURRENT);
  let stream = null;
  // While the live stream is down: the status line's mark of saying so, to clear it once it is
  // back (and only if nothing was said since).
  let reconnecting = null;

  // Every staff call: JSON in and out, the bearer token, and a sign-out when it stops working.
  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new Failure('default');
    }
    if (response.status === 204) return null;
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (!response.ok) {
      const code = (answer && answer.error) || 'default';
      if (code === 'staff_token_invalid' || code === 'staff_token_required') signedOut(code);
      throw new Failure(code);
    }
    return answer;
  }

  function report(error) {
    setStatus(errorOf(error));
  }

  async function signIn() {
    const username = $('username').value.trim();
    const password = $('password').value;
    try {
      const response = await fetch('/api/v1/staff/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      const answer = await response.json();
      if (!response.ok) throw new Failure(answer.error || 'default');
      token = answer.token;
      store.setItem(TOKEN, token);
      $('password').value = '';
      setStatus('');
      start();
    } catch (error) {
      report(error);
    }
  }

  async function signOut() {
    try {
      await api('POST', '/api/v1/staff/logout');
    } catch {
      // Signed out here either way; the token lapses at the end of the shift.
    }
    signedOut(null);
  }

  function signedOut(code) {
    token = null;
    current = null;
    store.removeItem(TOKEN);
    store.removeItem(CURRENT);
    stream?.stop();
    stream = null;
    reconnecting = null;
    queueList.replaceChildren();
    log.replaceChildren();
    consoleView.hidden = true;
    conversation.hidden = true;
    signOutButton.hidden = true;
    loginForm.hidden = false;
    setStatus(code ? errorText(code) : '');
  }

  function start() {
    loginForm.hidden = true;
    consoleView.hidden = false;
    signOutButton.hidden = false;
    listen();
    loadQueue();
    if (current) openConversation(current);
  }

  function describe(item) {
    const minutes = Math.floor(item.waiting_s / 60);
    return `${t(`risk_${item.risk}`)} · ${item.language} · ${t(`share_${item.share}`)} · ` +
      t('waiting', { minutes });
  }

  async function loadQueue() {
    try {
      const queue = await api('GET', '/api/v1/staff/queue');
      const items = queue.handoffs.map((item) => {
        const entry = document.createElement('li');
        entry.className = `queue-item risk-${item.risk}`;
        const text = document.createElement('span');
        text.textContent = describe(item);
        const claim = document.createElement('button');
        claim.type = 'button';
        claim.className = 'claim';
        claim.dataset.handoff = item.id;
        claim.textContent = t('claim');
        claim.addEventListener('click', () => claimHandoff(item.id));
        entry.append(text, claim);
        return entry;
      });
      queueList.replaceChildren(...items);
      queueEmpty.hidden = items.length > 0;
    } catch (error) {
      report(error);
    }
  }

  async function claimHandoff(id) {
    try {
      await api('POST', `/api/v1/staff/handoffs/${id}/claim`);
      current = id;
      store.setItem(CURRENT, id);
      setStatus('');
      await openConversation(id);
      loadQueue();
    } catch (error) {
      report(error);
      loadQueue();
    }
  }

  function showHandoff(handoff) {
    about.textContent = `${t(`risk_${handoff.risk}`)} · ${handoff.language} · ${t(`share_${handoff.share}`)}`;
  }

  // The whole conversation again on every change: the server decides what this counsellor may
  // read, and a message is never shown twice.
  async function openConversation(id) {
    try {
      const answer = await api('GET', `/api/v1/staff/handoffs/${id}/messages`);
      const entries = answer.messages.map((message) => {
        const item = document.createElement('div');
        item.className = `message ${message.role}`;
        const who = document.createElement('p');
        who.className = 'who';
        who.textContent = t(`role_${message.role}`);
        const body = document.createElement('p');
        body.className = 'text';
        body.textContent = message.content;
        item.append(who, body);
        return item;
      });
      if (!entries.length) {
        const nothing = document.createElement('p');
        nothing.className = 'nothing';
        nothing.textContent = t('nothing_shared');
        entries.push(nothing);
      }
      log.replaceChildren(...entries);
      conversation.hidden = false;
      entries.at(-1)?.scrollIntoView({ block: 'end' });
    } catch (error) {
      if (error instanceof Failure && ['handoff_not_found', 'forbidden'].includes(error.code)) {
        leaveConversation();
      }
      report(error);
    }
  }

  function leaveConversation() {
    current = null;
    store.removeItem(CURRENT);
    conversation.hidden = true;
    log.replaceChildren();
    about.textContent = '';
  }

  async function answer() {
    const content = reply.value.trim();
    if (!content) {
      setStatus(t('empty'));
      return;
    }
    const id = current;
    try {
      await api('POST', `/api/v1/staff/handoffs/${id}/messages`, { content });
      reply.value = '';
      setStatus('');
      await openConversation(id);
    } catch (error) {
      report(error);
    }
  }

  async function closeHandoff() {
    try {
      await api('POST', `/api/v1/staff/handoffs/${current}/close`, { outcome: $('outcome').value });
      leaveConversation();
      setStatus(t('closed'));
      loadQueue();
    } catch (error) {
      report(error);
    }
  }

  // The live stream, for as long as someone is signed in; after a drop it resumes where it broke
  // off, so the messages written meanwhile come as events.
  function listen() {
    let opened = false;
    stream = window.follow('/api/v1/staff/events', () => ({ Authorization: `Bearer ${token}` }), {
      onOpen({ resumed }) {
        if (reconnecting !== null) page.clearStatus(reconnecting);
        reconnecting = null;
        // Opened again with no event to go on from: what was missed reaches no event.
        if (opened && !resumed && current) openConversation(current);
        opened = true;
      },
      onEvent(event) {
        if (event.name === 'queue.changed') {
          loadQueue();
        } else if (event.name === 'stream.reset') {
          // Too long away to resume: read the conversation afresh (the queue comes next).
          if (current) openConversation(current);
        } else if (event.name === 'handoff.message' && event.data.handoff_id === current) {
          openConversation(current);
        } else if (event.name === 'handoff.updated' && event.data.handoff.id === current) {
          showHandoff(event.data.handoff);
          if (event.data.handoff.status === 'cancelled') setStatus(t('ended'));
        }
      },
      onDrop() {
        reconnecting = setStatus(t('reconnecting'));
      },
      async onRefused(response) {
        const { code } = await failureOf(response);
        if (response.status === 401) signedOut(code);
        else setStatus(errorText(code));
      },
    });
  }

  loginForm.addEventListener('submit', (event) => {
    event.preventDefault();
    signIn();
  });
  $('answer').addEventListener('submit', (event) => {
    event.preventDefault();
    answer();
  });
  $('close').addEventListener('submit', (event) => {
    event.preventDefault();
    closeHandoff();
  });
  signOutButton.addEventListener('click', signOut);
  page.onLanguage(() => {
    if (!token) return;
    loadQueue();
    if (current) openConversation(current);
  });

  page.applyLanguage();
  if (token) start();
})();
