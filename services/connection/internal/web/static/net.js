// net.js: the WebSocket connection (JSON protocol, reconnect with backoff),
// the server clock estimate and the outgoing note batcher.

export const SUBPROTOCOL = 'pianorhythm.v1.json';

// Connection owns one WebSocket at a time and reconnects after a drop with
// exponential backoff (0.5 s doubling to 15 s, with jitter) until close()
// is called. Callbacks: onOpen(), onMessage(msg), onDown({attempt, delayMs,
// code, reason}) when a reconnect is scheduled, onFatal({code, reason}) when
// the server refused us for good (banned).
export class Connection {
  constructor({ url, onOpen, onMessage, onDown, onFatal }) {
    this.url = url; // function: fresh URL per attempt (the token may change)
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onDown = onDown;
    this.onFatal = onFatal;
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
    this.nextId = 1;
    this.healthURL = '/healthz';
    this.probeMs = 500;
    this.probeTimer = 0;
    this.onServerBack = null;
  }

  async connect() {
    clearTimeout(this.timer);
    clearTimeout(this.probeTimer);
    this.stopped = false;
    let url;
    try {
      url = await this.url();
    } catch (err) {
      console.warn('building the connection url failed', err);
      this.scheduleReconnect(0, String(err));
      return;
    }
    if (this.ws) { // a reconnect started meanwhile
      return;
    }
    if (this.stopped) return;
    const ws = new WebSocket(url, SUBPROTOCOL);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      opened = true;
      this.onOpen?.();
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws || typeof ev.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (err) {
        console.warn('bad frame from server', err);
        return;
      }
      this.onMessage?.(msg);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === 4008) { // banned: reconnecting would only be refused again
        this.onFatal?.({ code: ev.code, reason: ev.reason || 'banned' });
        return;
      }
      this.scheduleReconnect(ev.code, ev.reason, opened);
    };
  }

  // scheduleReconnect waits out the backoff (or less: see probe); opened
  // says whether the socket that failed had been accepted by the server.
  scheduleReconnect(code, reason, opened = false) {
    const base = Math.min(15000, 500 * 2 ** this.attempt);
    const delayMs = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.onDown?.({ attempt: this.attempt, delayMs, code, reason, opened });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delayMs);
    this.probe();
  }

  // probe asks the server's health endpoint every probeMs while a
  // reconnect waits: once it answers, the backoff is over and the page
  // reconnects at once, instead of waiting out a delay grown while the
  // server was away. onServerBack(), when set, runs first (it may replace
  // a stale token).
  probe() {
    clearTimeout(this.probeTimer);
    const tryOnce = async () => {
      if (this.stopped || this.ws) return;
      let up = false;
      try {
        up = (await fetch(this.healthURL, { cache: 'no-store' })).ok;
      } catch (_) { /* still down */ }
      if (this.stopped || this.ws) return;
      if (!up) {
        this.probeTimer = setTimeout(tryOnce, this.probeMs);
        return;
      }
      this.attempt = 0;
      try {
        await this.onServerBack?.();
      } catch (err) {
        console.warn('server back handler failed', err);
      }
      if (!this.stopped && !this.ws) this.connect();
    };
    this.probeTimer = setTimeout(tryOnce, Math.min(this.probeMs, 250));
  }

  // reconnectNow skips the remaining backoff delay, or replaces a live
  // socket (used after logging in or out, so the new token is used).
  reconnectNow() {
    clearTimeout(this.timer);
    const old = this.ws;
    this.ws = null;
    if (old) old.close(1000, 'reconnecting');
    this.connect();
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // send writes one ClientMessage; false when the socket is not open.
  send(msg) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  // request sends msg with a fresh id and returns the id (the reply echoes
  // it), or '' when the socket is not open.
  request(msg) {
    const id = String(this.nextId++);
    return this.send({ id, ...msg }) ? id : '';
  }

  // welcomed is called once the server accepted the session: the backoff
  // starts over.
  welcomed() {
    this.attempt = 0;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.probeTimer);
    if (this.ws) this.ws.close(1000, 'bye');
    this.ws = null;
  }
}

// Clock estimates the server's clock from ping/pong: offset = server - local.
// Of the last 8 samples it trusts the one with the smallest round trip,
// whose midpoint assumption is the least wrong.
export class Clock {
  constructor() {
    this.offset = 0;
    this.rtt = NaN;
    this.samples = [];
  }

  now() {
    return Date.now() + this.offset;
  }

  // fromWelcome seeds the offset before the first pong arrives.
  fromWelcome(serverTime) {
    if (this.samples.length === 0 && Number.isFinite(serverTime)) {
      this.offset = serverTime - Date.now();
    }
  }

  fromPong(clientTime, serverTime) {
    const now = Date.now();
    const rtt = now - clientTime;
    if (!Number.isFinite(rtt) || rtt < 0 || rtt > 30000 || !Number.isFinite(serverTime)) return;
    this.samples.push({ rtt, offset: serverTime + rtt / 2 - now });
    if (this.samples.length > 8) this.samples.shift();
    const best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    this.offset = best.offset;
    this.rtt = best.rtt;
  }
}

// NoteBatcher groups local note events into `notes` messages: time is the
// server time when the batch began and each event carries its delay from
// it. A note after a quiet spell goes out at once; while notes keep coming,
// they are gathered and sent at most every intervalMs (the protocol's 25-200
// ms), so the message rate stays bounded whatever the player does. A full
// batch (maxEvents) or one spanning a second flushes at once.
export class NoteBatcher {
  constructor({ clock, send, intervalMs = 25, maxEvents = 300, now = () => performance.now() }) {
    this.clock = clock;
    this.sendFn = send;
    this.intervalMs = intervalMs;
    this.maxEvents = maxEvents;
    this.now = now;
    this.events = [];
    this.start = 0;
    this.lastFlush = -Infinity;
    this.timer = 0;
  }

  push(kind, note, velocity) {
    const now = this.clock.now();
    if (this.events.length === 0) this.start = now;
    const delayMs = Math.max(0, Math.min(1000, Math.round(now - this.start)));
    this.events.push({ kind, note, velocity, delayMs });
    if (this.events.length >= this.maxEvents || delayMs >= 1000) return this.flush();
    const wait = this.lastFlush + this.intervalMs - this.now();
    if (wait <= 0) return this.flush();
    if (!this.timer) this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    this.lastFlush = this.now();
    this.sendFn({ notes: { time: String(Math.round(this.start)), events } });
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = 0;
  }
}

// JitterBuffer decides, per sender, when remote notes are played: at the
// batch's time plus the event's delay plus a playback buffer, so the
// sender's rhythm is kept. Each sender's buffer follows the lateness of its
// recent batches (arrival - batch time: the network, the sender's batching
// and the clocks' error): the `quantile` of the last `window` ones (their
// largest while fewer than minSamples were seen) plus a margin, bounded by
// minMs and maxMs. A rare late batch (a hiccup of the machine) is played
// as soon as it comes rather than delaying every note after it; the buffer
// shrinks as late batches leave the window: as small as the network
// allows. Events of one sender are never played out of order, even while
// the buffer shrinks.
export class JitterBuffer {
  constructor({ minMs = 0, maxMs = 600, marginMs = 3, window = 64, quantile = 0.95, minSamples = 16, now = () => performance.now() } = {}) {
    Object.assign(this, { minMs, maxMs, marginMs, window, quantile, minSamples, now });
    this.senders = new Map(); // source -> {lateness: [], last: local ms of its latest scheduled event}
  }

  sender(source) {
    let s = this.senders.get(source);
    if (!s) this.senders.set(source, (s = { lateness: [], last: -Infinity }));
    return s;
  }

  // observe records one batch's lateness and returns the sender's buffer.
  observe(source, latenessMs) {
    const s = this.sender(source);
    if (Number.isFinite(latenessMs)) {
      s.lateness.push(Math.max(0, latenessMs));
      if (s.lateness.length > this.window) s.lateness.shift();
    }
    return this.bufferOf(s);
  }

  bufferOf(s) {
    const n = s.lateness.length;
    let late = 0;
    if (n > 0 && n < this.minSamples) late = Math.max(...s.lateness);
    else if (n > 0) late = [...s.lateness].sort((x, y) => x - y)[Math.ceil(this.quantile * n) - 1];
    return Math.max(this.minMs, Math.min(this.maxMs, late + this.marginMs));
  }

  // ms is the buffer of source (the largest of all senders without one),
  // for display.
  ms(source) {
    if (source !== undefined) return this.bufferOf(this.sender(source));
    let m = this.minMs;
    for (const s of this.senders.values()) m = Math.max(m, this.bufferOf(s));
    return m;
  }

  // order returns when (ms from now) to play an event of source meant for
  // atMs from now: never before that sender's previous event.
  order(source, atMs) {
    const s = this.sender(source);
    const now = this.now();
    const at = Math.max(now + Math.max(0, atMs), s.last);
    s.last = at;
    return at - now;
  }

  forget(source) {
    this.senders.delete(source);
  }
}

// int64 fields arrive as strings in protojson; absent means zero.
export function int(v) {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}
