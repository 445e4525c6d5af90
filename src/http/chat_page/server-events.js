// Server-sent events from a fetch body, for both compiled-in pages: EventSource can neither POST
// nor send a bearer token. Events are separated by a blank line; `data:` lines join with a
// newline; comment lines (heartbeats) start with `:`.
'use strict';
window.serverEvents = async function* serverEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let boundary;
    while ((boundary = /\r?\n\r?\n/.exec(buffer))) {
      const block = buffer.slice(0, boundary.index);
      buffer = buffer.slice(boundary.index + boundary[0].length);
      let name = 'message';
      let id = null;
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
      if (data.length) yield { name, id, data: JSON.parse(data.join('\n')) };
    }
  }
};

// A live stream at `path` followed until it is stopped: a stream that drops, ends or cannot be
// reached is opened again RECONNECT_MS later with `Last-Event-ID` set to the last event seen, so
// the server sends first what happened while it was down. Both streams (the session's and the
// counsellor's) resume that way.
//
// `headers()` gives the request's headers at each attempt. `onOpen({ resumed })` runs whenever a
// stream opens (`resumed`: it goes on after an earlier event, so nothing was missed);
// `onEvent(event)` for each event; `onDrop()` each time a stream is lost and another is to be
// tried; `onRefused(response)` when the server refuses it (a 4xx other than 408 and 429), after
// which nothing is tried again. Answers `{ stop }`.
window.follow = function follow(path, headers, { onOpen = () => {}, onEvent, onDrop = () => {}, onRefused = () => {} }) {
  const RECONNECT_MS = 3000;
  let lastEventId = null;
  let controller = null;
  let retry = null;
  let stopped = false;

  const refused = (status) => status >= 400 && status < 500 && status !== 408 && status !== 429;

  async function attempt() {
    controller = new AbortController();
    const resumed = lastEventId !== null;
    try {
      const sent = { ...headers(), Accept: 'text/event-stream' };
      if (resumed) sent['Last-Event-ID'] = lastEventId;
      const response = await fetch(path, { headers: sent, signal: controller.signal });
      if (stopped) return;
      if (refused(response.status)) {
        stopped = true;
        onRefused(response);
        return;
      }
      if (response.ok) {
        onOpen({ resumed });
        for await (const event of window.serverEvents(response.body)) {
          // Before the handler: an event it fails on is not asked for again, and again.
          if (event.id !== null) lastEventId = event.id;
          onEvent(event);
          if (stopped) return;
        }
      }
    } catch {
      // Offline, dropped, or stopped (the abort): tried again below unless stopped.
    }
    if (stopped) return;
    onDrop();
    retry = setTimeout(attempt, RECONNECT_MS);
  }

  attempt();
  return {
    stop() {
      stopped = true;
      clearTimeout(retry);
      controller?.abort();
    },
  };
};
