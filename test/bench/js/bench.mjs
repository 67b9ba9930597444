// realtime-js side of the benchmark harness (test/bench): the same
// line-delimited JSON protocol as the Go children (see ../proto.go), one
// request per stdin line, one response per stdout line.
//
// @supabase/realtime-js is the copy pinned in test/conformance (package.json
// and package-lock.json there; `make node-deps` installs it): it is loaded
// with createRequire rooted in that directory, so there is no second pin.
// Node 20 has no global WebSocket, so the transport is `ws` from the same
// node_modules, as a Node application would configure it.
//
// Run with --expose-gc so `memory` can collect garbage before measuring.

import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, '..', '..', 'conformance', 'package.json'))
const { RealtimeClient } = require('@supabase/realtime-js')
const WebSocket = require('ws')

const BROADCAST = 'cursor'
const ACK_EVENT = 'ack'
const API_KEY = 'bench-anon-key'

// Wall-clock Unix nanoseconds with sub-millisecond resolution.
const nowNs = () => Math.round((performance.timeOrigin + performance.now()) * 1e6)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function cursorPayload(seq) {
  return {
    user_id: '3f1c2a9e-5b7d-4e8a-9c1f-2d3e4f5a6b7c',
    x: 100 + (seq % 1000) + 0.5,
    y: 200 + (seq % 700) + 0.25,
    color: '#3ecf8e',
    seq,
    ts: 1764316800123,
    page: '/project/default/editor',
  }
}

let client = null
const channels = new Map() // sub-topic → channel
let arm = null // { want, typed, count, bad, firstNs, endNs, done, resolve }
let rejoin = null // { want, seen:Set, endNs, resolve }
let many = [] // B7: the clients of the last many_open

function memory() {
  if (global.gc) {
    global.gc()
    global.gc()
  }
  const m = process.memoryUsage()
  return { heap: m.heapUsed, rss: m.rss }
}

// The callback every channel's broadcast binding calls: check the event,
// look at the payload (already parsed by realtime-js: it JSON.parses every
// frame), count.
function onBroadcast(msg) {
  const a = arm
  if (a === null || msg.event !== BROADCAST) return
  let ok = msg.payload !== undefined && msg.payload !== null
  if (a.typed) {
    const p = msg.payload
    ok = ok && typeof p.user_id === 'string' && typeof p.seq === 'number' && typeof p.x === 'number'
  }
  if (!ok) a.bad++
  a.count++
  if (a.count === 1) a.firstNs = nowNs()
  if (a.count === a.want) {
    a.endNs = nowNs()
    a.resolve()
  }
}

function onStatus(topic, status) {
  const r = rejoin
  if (r === null || status !== 'SUBSCRIBED' || r.seen.has(topic)) return
  r.seen.add(topic)
  if (r.seen.size === r.want) {
    r.endNs = nowNs()
    r.resolve()
  }
}

function withTimeout(promise, ms) {
  let t
  return Promise.race([promise, new Promise((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t))
}

const ops = {
  async connect(req) {
    const backoff = req.backoff_ms > 0 ? req.backoff_ms : 1000
    client = new RealtimeClient(req.url.replace(/^http/, 'ws') + '/realtime/v1', {
      transport: WebSocket,
      vsn: req.vsn,
      params: { apikey: API_KEY, bench_id: req.id },
      timeout: 120000,
      reconnectAfterMs: () => backoff,
      // No logger: with one set, phoenix formats a log line for every
      // received message, which would slow realtime-js down unfairly.
    })
    client.connect()
    const deadline = Date.now() + 30000
    while (!client.isConnected()) {
      if (Date.now() > deadline) throw new Error('socket not open after 30 s')
      await sleep(1)
    }
    return {}
  },

  async subscribe(req) {
    const start = nowNs()
    let joined = 0
    const pending = req.topics.map(
      (t) =>
        new Promise((resolve, reject) => {
          const ch = client.channel(t, { config: { broadcast: { self: !!req.self, ack: !!req.ack } } })
          ch.on('broadcast', { event: '*' }, onBroadcast)
          let first = true
          ch.subscribe((status, err) => {
            onStatus(ch.topic, status)
            if (!first) return
            first = false
            if (status === 'SUBSCRIBED') {
              joined++
              resolve()
            } else reject(new Error(`subscribe ${t}: ${status}${err ? ' ' + err.message : ''}`))
          })
          channels.set(t, ch)
        })
    )
    await withTimeout(Promise.all(pending), req.timeout_ms > 0 ? req.timeout_ms : 300000)
    return { join_ns: nowNs() - start, joined, timed_out: joined < req.topics.length }
  },

  async arm(req) {
    const a = { want: req.n, typed: !!req.typed, count: 0, bad: 0, firstNs: 0, endNs: 0, cpu0: process.cpuUsage() }
    a.done = new Promise((r) => (a.resolve = r))
    arm = a
    return {}
  },

  async wait(req) {
    const a = arm
    if (a === null) throw new Error('wait before arm')
    await withTimeout(a.done, req.timeout_ms > 0 ? req.timeout_ms : 60000)
    arm = null
    const cpu = process.cpuUsage(a.cpu0)
    return { delivered: a.count, bad: a.bad, first_ns: a.firstNs, end_ns: a.endNs, cpu_ns: (cpu.user + cpu.system) * 1000 }
  },

  async rejoin_arm() {
    const r = { want: channels.size, seen: new Set(), endNs: 0 }
    r.done = new Promise((res) => (r.resolve = res))
    rejoin = r
    return {}
  },

  async rejoin_wait(req) {
    const r = rejoin
    if (r === null) throw new Error('rejoin_wait before rejoin_arm')
    await withTimeout(r.done, req.timeout_ms > 0 ? req.timeout_ms : 60000)
    return { rejoined: r.seen.size, end_ns: r.endNs }
  },

  // B4: acknowledged self-broadcasts, open loop at req.rate per second.
  // Node timers have millisecond granularity: every tick sends what is due.
  async acks(req) {
    const ch = channels.get(req.topic)
    if (!ch) throw new Error(`acks: channel ${req.topic} not subscribed`)
    const total = Math.floor((req.rate * req.duration_ms) / 1000)
    const intervalMs = 1000 / req.rate
    const payload = cursorPayload(0)
    const lat = []
    let errors = 0
    const inflight = []
    const start = performance.now()
    let sent = 0
    while (sent < total) {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1)
      while (sent < due) {
        const t0 = performance.now()
        inflight.push(
          ch.send({ type: 'broadcast', event: ACK_EVENT, payload }).then((r) => {
            if (r === 'ok') lat.push((performance.now() - t0) * 1000)
            else errors++
          })
        )
        sent++
      }
      const next = start + sent * intervalMs - performance.now()
      await sleep(Math.max(0, next))
    }
    await Promise.all(inflight)
    return { latencies_us: lat, errors }
  },

  // B6: push req.n broadcasts as fast as send() takes them.
  async send(req) {
    const ch = channels.get(req.topic)
    if (!ch) throw new Error(`send: channel ${req.topic} not subscribed`)
    const payload = cursorPayload(0)
    const start = nowNs()
    for (let i = 0; i < req.n; i++) {
      ch.send({ type: 'broadcast', event: BROADCAST, payload })
    }
    return { start_ns: start, sent_ns: nowNs() }
  },

  async memory() {
    return memory()
  },

  // B7: req.n more RealtimeClients with their defaults (plus the ws
  // transport, the vsn and the bench_id parameter), each with one channel
  // bound to every broadcast and subscribed, one after another or
  // (req.all) all at once.
  async many_open(req) {
    if (many.length > 0) throw new Error(`many_open: ${many.length} clients of the last many_open still open`)
    const open = (i) =>
      new Promise((resolve, reject) => {
        const c = new RealtimeClient(req.url.replace(/^http/, 'ws') + '/realtime/v1', {
          transport: WebSocket,
          vsn: req.vsn,
          params: { apikey: API_KEY, bench_id: `${req.id}-${i}` },
        })
        many.push(c)
        c.connect()
        const ch = c.channel(`${req.topic}-${String(i).padStart(5, '0')}`)
        ch.on('broadcast', { event: '*' }, onBroadcast)
        let first = true
        ch.subscribe((status, err) => {
          if (!first) return
          first = false
          if (status === 'SUBSCRIBED') resolve()
          else reject(new Error(`subscribe ${i}: ${status}${err ? ' ' + err.message : ''}`))
        })
      })
    let joined = 0
    const one = (i) => open(i).then(() => joined++)
    const start = nowNs()
    const all = req.all
      ? Promise.all(Array.from({ length: req.n }, (_, i) => one(i)))
      : (async () => {
          for (let i = 0; i < req.n; i++) await one(i)
        })()
    await withTimeout(all, req.timeout_ms > 0 ? req.timeout_ms : 300000)
    return { join_ns: nowNs() - start, joined, timed_out: joined < req.n }
  },

  // B7: disconnect() every client of the last many_open, all at once.
  // Each resolves with 'ok' once its socket has closed (phoenix polls the
  // socket's readyState 150 ms after asking it to close).
  async many_close() {
    const start = nowNs()
    const res = await Promise.all(many.map((c) => withTimeout(c.disconnect(), 15000)))
    const took = nowNs() - start
    many = []
    const stuck = res.filter((r) => r !== 'ok').length
    if (stuck > 0) throw new Error(`many_close: ${stuck} disconnect() calls did not resolve with 'ok' within 15 s`)
    return { close_ns: took }
  },

  async close() {
    try {
      await withTimeout(client?.disconnect() ?? Promise.resolve(), 2000)
      for (const c of many) await withTimeout(c.disconnect(), 2000)
    } catch {}
    return {}
  },
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
const write = (obj) =>
  new Promise((r) => {
    if (!process.stdout.write(JSON.stringify(obj) + '\n')) process.stdout.once('drain', r)
    else r()
  })

for await (const line of rl) {
  if (!line.trim()) continue
  let req
  try {
    req = JSON.parse(line)
  } catch (err) {
    await write({ error: `bad request: ${err.message}` })
    continue
  }
  const fn = ops[req.op]
  if (!fn) {
    await write({ error: `unknown op ${req.op}` })
    continue
  }
  let resp
  try {
    resp = await fn(req)
  } catch (err) {
    resp = { error: String(err?.message ?? err) }
  }
  await write(resp)
  if (req.op === 'close') process.exit(0)
}
