// "Talk to a person" on the chat page: the young person chooses what the counsellor may read —
// nothing, a summary the listener drafts and they may edit, or the messages they tick — then
// waits in the queue, talks with the counsellor in the same conversation, and may leave at any
// time. Everything goes through the handoff API; the session's event stream brings the claim,
// the counsellor's messages and the close. Every text from the server goes in as textContent.
'use strict';
window.handoffPanel = function handoffPanel({ page, speaker, session, ensureSession, addMessage, showCard, historyLimit }) {
  const { $, t, errorOf, Failure, failureOf } = page;
  // While queued, the place in the queue is asked for again this often: someone ahead being
  // taken moves it, and that is no event of this session's.
  const QUEUE_POLL_MS = 15000;
  const TIME_ZONE = 'Asia/Ho_Chi_Minh';

  const askButton = $('ask-person');
  const panel = $('handoff');
  const heading = $('handoff-title');
  const picker = $('handoff-messages');
  const pickList = $('handoff-message-list');
  const pickNone = $('handoff-messages-none');
  const note = $('handoff-note');
  const noteLabel = $('handoff-note-label');
  const noteHint = $('handoff-note-hint');
  const problem = $('handoff-problem');
  const sendButton = $('handoff-send');
  const state = $('handoff-state');
  const stateText = $('handoff-state-text');
  const cancelButton = $('handoff-cancel');
  const leaveButton = $('handoff-leave');

  let current = null; // the handoff as last seen, while one is open or just ended
  let hidden = false; // the footer is given over to confirming a deletion
  let listening = null; // the session's stream, followed while a handoff is asked for or open
  let poll = null;
  // What the person wrote for each kind of text, so that switching choices never sends a
  // summary as a plain note or the other way round.
  let summary = null;
  let plainNote = '';
  let choice = 'none';

  const open = () => current && (current.status === 'queued' || current.status === 'assigned');

  function headers(extra = {}) {
    return { Authorization: `Bearer ${session()}`, ...extra };
  }

  function showProblem(words) {
    problem.textContent = words;
  }

  // The ask button, the panel and the state line, as the handoff now stands.
  function layout() {
    askButton.hidden = hidden || open();
    if (hidden || open()) closePanel(false);
    state.hidden = hidden || !current;
    cancelButton.hidden = !current || current.status !== 'queued';
    leaveButton.hidden = !current || current.status !== 'assigned';
  }

  function describe() {
    if (!current) return '';
    switch (current.status) {
      case 'queued': {
        const parts = [];
        if (current.position) parts.push(t('queued_position', { position: current.position }));
        if (current.estimated_wait_s !== undefined) {
          parts.push(t('queued_wait', { minutes: Math.max(1, Math.ceil(current.estimated_wait_s / 60)) }));
        }
        parts.push(t('queued_hint'));
        return parts.join(' ');
      }
      case 'assigned':
        return t('assigned');
      case 'closed':
        return t('closed');
      default:
        return current.claimed_at ? t('left') : t('cancelled');
    }
  }

  function show(handoff) {
    const before = current && current.status;
    // An event carries no place in the queue: keep the last one known until it is asked again.
    if (handoff.status === 'queued' && handoff.position === undefined && current && current.status === 'queued') {
      handoff = { ...handoff, position: current.position, estimated_wait_s: current.estimated_wait_s };
    }
    current = handoff;
    stateText.textContent = describe();
    layout();
    if (open()) {
      listen();
      if (current.status === 'queued') startPolling();
      else stopPolling();
    } else {
      stopPolling();
      stopListening();
    }
    // The button that was pressed may be gone: keep the keyboard in the same place.
    const focused = document.activeElement;
    if (before !== current.status && (!focused || focused === document.body || focused.closest('[hidden]'))) {
      (open() ? (current.status === 'queued' ? cancelButton : leaveButton) : askButton).focus();
    }
  }

  // The handoff as the server has it; `onlyOpen`: shown only while queued or assigned.
  async function refresh(onlyOpen = false) {
    if (!session()) return;
    try {
      const response = await fetch('/api/v1/handoff', { headers: headers() });
      if (!response.ok) return;
      const { handoff } = await response.json();
      if (!onlyOpen || handoff.status === 'queued' || handoff.status === 'assigned') show(handoff);
    } catch {
      // Offline: the stream's reconnection or the next poll tries again.
    }
  }

  function startPolling() {
    if (!poll) poll = setInterval(() => refresh(), QUEUE_POLL_MS);
  }

  function stopPolling() {
    clearInterval(poll);
    poll = null;
  }

  // The session's event stream, read from a fetch body so the token stays out of the address;
  // after a drop it resumes after the last event seen. The page's own posts already show the
  // person's messages, so only the counsellor's are added from it.
  function listen() {
    if (listening || !session()) return;
    listening = window.follow('/api/v1/events', () => headers(), {
      // What happened to the handoff before it opened, or while it was down.
      onOpen() {
        if (current) refresh();
      },
      onEvent(event) {
        if (event.name === 'message.created' && event.data.role === 'counsellor') {
          addMessage('counsellor', event.data.content ?? t('unreadable'));
        } else if (event.name === 'handoff.updated') {
          if (event.data.status === 'queued') refresh();
          else show(event.data);
        } else if (event.name === 'session.ended') {
          stopListening();
        }
      },
      // The session is gone: the next post says so.
      onRefused: stopListening,
    });
  }

  function stopListening() {
    listening?.stop();
    listening = null;
  }

  function openPanel() {
    current = open() ? current : null;
    showProblem('');
    panel.hidden = false;
    // The choice takes the screen below the header (quick exit stays): on a small phone the
    // conversation, the composer and the panel do not fit together.
    document.body.classList.add('choosing');
    askButton.setAttribute('aria-expanded', 'true');
    askButton.hidden = true;
    state.hidden = true;
    choose(panel.elements.share.value);
    panel.querySelector('input[name="share"]:checked').focus();
  }

  function hidePanel() {
    panel.hidden = true;
    document.body.classList.remove('choosing');
    askButton.setAttribute('aria-expanded', 'false');
  }

  function closePanel(returnFocus = true) {
    if (panel.hidden) return;
    hidePanel();
    if (!open() && !hidden) {
      askButton.hidden = false;
      state.hidden = !current;
      if (returnFocus) askButton.focus();
    }
  }

  // One of the three choices: what the note box holds and what else is asked for follow it.
  async function choose(next) {
    if (choice === 'summary') summary = note.value;
    else plainNote = note.value;
    choice = next;
    showProblem('');
    picker.hidden = next !== 'selected';
    noteHint.hidden = next !== 'summary';
    noteLabel.textContent = t(next === 'summary' ? 'summary_label' : 'note_label');
    noteLabel.dataset.text = next === 'summary' ? 'summary_label' : 'note_label';
    if (next === 'summary') {
      note.value = summary ?? '';
      if (summary === null) await draftSummary();
    } else {
      note.value = plainNote;
    }
    if (next === 'selected') await listMessages();
  }

  async function draftSummary() {
    note.setAttribute('aria-busy', 'true');
    note.placeholder = t('summary_loading');
    try {
      await ensureSession();
      const response = await fetch('/api/v1/handoff/summary-draft', { headers: headers() });
      if (!response.ok) throw await failureOf(response);
      const draft = (await response.json()).summary;
      // Nothing the person typed meanwhile is overwritten.
      if (choice === 'summary' && note.value === '') note.value = draft;
      summary = choice === 'summary' ? note.value : draft;
    } catch (error) {
      showProblem(errorOf(error));
    } finally {
      note.removeAttribute('aria-busy');
      note.placeholder = '';
    }
  }

  // The conversation so far, each message with a box to tick; nothing is ticked at first.
  async function listMessages() {
    const ticked = new Set([...pickList.querySelectorAll('input:checked')].map((box) => box.value));
    let messages = [];
    if (session()) {
      try {
        const response = await fetch(`/api/v1/messages?limit=${historyLimit}`, { headers: headers() });
        if (!response.ok) throw await failureOf(response);
        messages = (await response.json()).messages.filter((message) => message.content);
      } catch (error) {
        showProblem(errorOf(error));
        return;
      }
    }
    const items = messages.map((message) => {
      const item = document.createElement('li');
      const label = document.createElement('label');
      label.className = `pick-item ${message.role}`;
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = 'message';
      box.id = `pick-${message.id}`;
      box.value = message.id;
      box.checked = ticked.has(message.id);
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = `${speaker(message.role)}: `;
      const text = document.createElement('span');
      text.textContent = message.content;
      label.append(box, who, text);
      item.append(label);
      return item;
    });
    pickList.replaceChildren(...items);
    pickNone.hidden = items.length > 0;
  }

  async function ask() {
    const body = { share: choice };
    const written = note.value.trim();
    if (choice === 'summary') {
      if (!written) {
        showProblem(t('summary_missing'));
        note.focus();
        return;
      }
      body.note = written;
    } else if (written) {
      body.note = written;
    }
    if (choice === 'selected') {
      body.message_ids = [...pickList.querySelectorAll('input:checked')].map((box) => box.value);
      if (!body.message_ids.length) {
        showProblem(t('messages_missing'));
        (pickList.querySelector('input') ?? $('share-selected')).focus();
        return;
      }
    }
    sendButton.disabled = true;
    showProblem(t('handoff_asking'));
    try {
      await ensureSession();
      // Listening before asking: a counsellor who is quick is not missed.
      listen();
      const response = await fetch('/api/v1/handoff', {
        method: 'POST',
        headers: headers({ 'Content-Type': 'application/json' }),
        body: JSON.stringify(body),
      });
      if (!response.ok) throw await failureOf(response);
      const answer = await response.json();
      if (answer.handoff.status === 'unavailable') {
        stopListening();
        showProblem('');
        closePanel();
        unavailable(answer);
        return;
      }
      showProblem('');
      forgetChoice();
      hidePanel();
      show(answer.handoff);
    } catch (error) {
      if (error instanceof Failure && error.code === 'handoff_exists') {
        showProblem('');
        hidePanel();
        await refresh();
        return;
      }
      if (!open()) stopListening();
      showProblem(errorOf(error));
    } finally {
      sendButton.disabled = false;
    }
  }

  // No counsellor can come: the server's words, when they are next on duty, and the hotlines.
  function unavailable(answer) {
    const card = answer.crisis_card || { message: '', hotlines: [] };
    const words = [card.message];
    const next = answer.handoff.next_opening;
    if (next) {
      const locale = page.language() === 'vi' ? 'vi-VN' : 'en-GB';
      const time = new Intl.DateTimeFormat(locale, {
        timeZone: TIME_ZONE,
        weekday: 'long',
        day: 'numeric',
        month: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(next));
      words.push(t('next_opening', { time }));
    }
    showCard({ priority_message: words.filter(Boolean).join(' '), hotlines: card.hotlines }, t('unavailable_title'));
  }

  function forgetChoice() {
    summary = null;
    plainNote = '';
    note.value = '';
    pickList.replaceChildren();
  }

  async function end() {
    cancelButton.disabled = true;
    leaveButton.disabled = true;
    try {
      const response = await fetch('/api/v1/handoff', { method: 'DELETE', headers: headers() });
      if (response.status === 404) {
        current = null;
        layout();
        askButton.focus();
        return;
      }
      if (!response.ok) throw await failureOf(response);
      show((await response.json()).handoff);
    } catch (error) {
      page.setStatus(errorOf(error));
    } finally {
      cancelButton.disabled = false;
      leaveButton.disabled = false;
    }
  }

  askButton.addEventListener('click', openPanel);
  $('handoff-dismiss').addEventListener('click', () => closePanel());
  for (const radio of panel.querySelectorAll('input[name="share"]')) {
    radio.addEventListener('change', () => choose(radio.value));
  }
  panel.addEventListener('submit', (event) => {
    event.preventDefault();
    ask();
  });
  cancelButton.addEventListener('click', end);
  leaveButton.addEventListener('click', end);
  page.onLanguage(() => {
    if (current) stateText.textContent = describe();
  });

  return {
    // After a reload in the same tab: the handoff that is still open, if any.
    restore: () => refresh(true),
    // The session is gone (deleted, expired): so is its handoff.
    reset() {
      stopPolling();
      stopListening();
      current = null;
      forgetChoice();
      closePanel(false);
      layout();
    },
    closePanel,
    setHidden(value) {
      hidden = value;
      if (value) closePanel(false);
      layout();
    },
  };
};
