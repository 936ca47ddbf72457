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
  }

  async connect() {
    clearTimeout(this.timer);
    this.stopped = false;
    let url;
    try {
      url = await this.url();
    } catch (err) {
      console.warn('building the connection url failed', err);
      this.scheduleReconnect(0, String(err));
      return;
    }
    const ws = new WebSocket(url, SUBPROTOCOL);
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.attempt = 0;
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
      this.scheduleReconnect(ev.code, ev.reason);
    };
  }

  scheduleReconnect(code, reason) {
    const base = Math.min(15000, 500 * 2 ** this.attempt);
    const delayMs = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.onDown?.({ attempt: this.attempt, delayMs, code, reason });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delayMs);
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

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
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

// NoteBatcher groups local note events and flushes them every intervalMs as
// one `notes` message: time is the server time when the batch began and each
// event carries its delay from it. A full batch (300 events) flushes at once.
export class NoteBatcher {
  constructor({ clock, send, intervalMs = 50, maxEvents = 300 }) {
    this.clock = clock;
    this.sendFn = send;
    this.intervalMs = intervalMs;
    this.maxEvents = maxEvents;
    this.events = [];
    this.start = 0;
    this.timer = setInterval(() => this.flush(), intervalMs);
  }

  push(kind, note, velocity) {
    const now = this.clock.now();
    if (this.events.length === 0) this.start = now;
    const delayMs = Math.max(0, Math.min(1000, Math.round(now - this.start)));
    this.events.push({ kind, note, velocity, delayMs });
    if (this.events.length >= this.maxEvents || delayMs >= 1000) this.flush();
  }

  flush() {
    if (this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    this.sendFn({ notes: { time: String(Math.round(this.start)), events } });
  }

  stop() {
    clearInterval(this.timer);
  }
}

// JitterBuffer picks how long after a batch's time remote notes are played:
// the largest recent lateness (arrival - batch time, which includes the
// sender's flush interval and the network) plus a margin, bounded. Playing
// everything at time+delay+buffer keeps the sender's rhythm intact.
export class JitterBuffer {
  constructor({ minMs = 60, maxMs = 600, marginMs = 20, window = 32 } = {}) {
    Object.assign(this, { minMs, maxMs, marginMs, window });
    this.lateness = [];
  }

  observe(latenessMs) {
    if (!Number.isFinite(latenessMs)) return;
    this.lateness.push(Math.max(0, latenessMs));
    if (this.lateness.length > this.window) this.lateness.shift();
  }

  get ms() {
    const worst = this.lateness.length ? Math.max(...this.lateness) : 0;
    return Math.max(this.minMs, Math.min(this.maxMs, worst + this.marginMs));
  }
}

// int64 fields arrive as strings in protojson; absent means zero.
export function int(v) {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}
