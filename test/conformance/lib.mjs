// Shared helpers of conformance.mjs and interop.mjs: environment, realtime-js
// clients on the `ws` transport with a frame recorder, JWT minting, polling
// waits, the control endpoint of the Go harness and the case runner.
//
// Plain JavaScript on purpose: no build step, Node 20+.

import crypto from 'node:crypto'
import { inspect } from 'node:util'

import { RealtimeClient } from '@supabase/realtime-js'
import WebSocket from 'ws'

// ---------------------------------------------------------------------------
// Environment

/**
 * Reads the configuration the Go harness (conformance_test.go) passes in.
 *
 *   CONFORMANCE_URL          project URL of the server, http://127.0.0.1:<port> (required)
 *   CONFORMANCE_REALTIME_URL RealtimeClient endpoint; default: CONFORMANCE_URL with ws(s) + /realtime/v1 (§1.2)
 *   CONFORMANCE_APIKEY       the anon key, a JWT signed with the secret (required)
 *   CONFORMANCE_JWT_SECRET   the server's JWT secret, to mint user tokens (required)
 *   CONFORMANCE_DSN          the PostgreSQL DSN the server streams changes from (required for postgres cases)
 *   CONFORMANCE_CONTROL_URL  the harness control endpoint: runs SQL on CONFORMANCE_DSN and returns the
 *                            server's recordings (access_token pushes, joins, HTTP requests)
 *   CONFORMANCE_DOWN_URL     project URL of a server whose database is unreachable (optional)
 *   CONFORMANCE_LIMITED_URL  project URL of a server with a small events limit (optional)
 *   CONFORMANCE_EVENTS_LIMIT that server's events per second
 *   CONFORMANCE_VSNS         comma-separated vsn list, default "2.0.0,1.0.0"
 *   CONFORMANCE_ONLY         optional regular expression selecting case names
 *   CONFORMANCE_DEBUG        "1": print realtime-js logs of failing cases on stderr
 */
export function readEnv() {
  const e = process.env
  const missing = ['CONFORMANCE_URL', 'CONFORMANCE_APIKEY', 'CONFORMANCE_JWT_SECRET'].filter(
    (k) => !e[k]
  )
  if (missing.length > 0) {
    console.error(`missing environment: ${missing.join(', ')} (run through conformance_test.go)`)
    process.exit(2)
  }
  const url = e.CONFORMANCE_URL.replace(/\/+$/, '')
  return {
    url,
    realtimeURL: e.CONFORMANCE_REALTIME_URL || url.replace(/^http/i, 'ws') + '/realtime/v1',
    apikey: e.CONFORMANCE_APIKEY,
    secret: e.CONFORMANCE_JWT_SECRET,
    dsn: e.CONFORMANCE_DSN || '',
    control: (e.CONFORMANCE_CONTROL_URL || '').replace(/\/+$/, ''),
    downURL: (e.CONFORMANCE_DOWN_URL || '').replace(/\/+$/, ''),
    limitedURL: (e.CONFORMANCE_LIMITED_URL || '').replace(/\/+$/, ''),
    eventsLimit: Number(e.CONFORMANCE_EVENTS_LIMIT || 0),
    vsns: (e.CONFORMANCE_VSNS || '2.0.0,1.0.0')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    only: e.CONFORMANCE_ONLY ? new RegExp(e.CONFORMANCE_ONLY) : null,
    debug: e.CONFORMANCE_DEBUG === '1',
  }
}

// ---------------------------------------------------------------------------
// JWT (HS256, as Supabase signs anon / user tokens)

const b64url = (buf) => Buffer.from(buf).toString('base64url')

export function signJWT(secret, claims) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify(claims))
  const sig = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest()
  return `${head}.${body}.${b64url(sig)}`
}

export const nowSec = () => Math.floor(Date.now() / 1000)

// ---------------------------------------------------------------------------
// Frame recorder: a `ws` subclass that keeps every frame in and out, so cases
// can check the wire encoding (§2, §5.2) next to what realtime-js delivers.

function describeFrame(data) {
  if (typeof data === 'string') return { binary: false, text: data }
  let bytes
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data)
  else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  else if (Array.isArray(data)) bytes = new Uint8Array(Buffer.concat(data))
  else return { binary: true, kind: -1, bytes: new Uint8Array(0) }
  bytes = Uint8Array.from(bytes) // copy: realtime-js may transfer/slice the buffer
  return { binary: true, kind: bytes[0], bytes }
}

function recordingTransport(rec) {
  return class RecordingWebSocket extends WebSocket {
    constructor(address, protocols) {
      super(address, protocols)
      rec.urls.push(String(address))
      this.addEventListener('message', (ev) => rec.in.push(describeFrame(ev.data)))
    }
    send(data, ...rest) {
      rec.out.push(describeFrame(data))
      return super.send(data, ...rest)
    }
  }
}

/** Parses a V2 kind-4 user broadcast frame (§2.3). */
export function parseKind4(bytes) {
  const dec = new TextDecoder()
  const [kind, topicLen, eventLen, metaLen, encoding] = bytes
  let o = 5
  const topic = dec.decode(bytes.slice(o, (o += topicLen)))
  const event = dec.decode(bytes.slice(o, (o += eventLen)))
  const meta = dec.decode(bytes.slice(o, (o += metaLen)))
  return { kind, topic, event, meta, encoding, payload: bytes.slice(o) }
}

/** Parses a V2 kind-3 user broadcast push (§2.3). */
export function parseKind3(bytes) {
  const dec = new TextDecoder()
  const [kind, jrLen, refLen, topicLen, eventLen, metaLen, encoding] = bytes
  let o = 7
  const joinRef = dec.decode(bytes.slice(o, (o += jrLen)))
  const ref = dec.decode(bytes.slice(o, (o += refLen)))
  const topic = dec.decode(bytes.slice(o, (o += topicLen)))
  const event = dec.decode(bytes.slice(o, (o += eventLen)))
  const meta = dec.decode(bytes.slice(o, (o += metaLen)))
  return { kind, joinRef, ref, topic, event, meta, encoding, payload: bytes.slice(o) }
}

// ---------------------------------------------------------------------------
// Clients

/**
 * Creates a RealtimeClient for vsn on the `ws` transport (Node 20 has no
 * global WebSocket). The returned object carries:
 *   client   the RealtimeClient
 *   frames   every decoded inbound message {join_ref, ref, topic, event, payload}
 *   wire     {urls, in, out}: raw frames (text or binary with kind byte)
 *   logs     realtime-js log lines (a logger also silences its console warnings)
 */
export function makeClient(env, vsn, opts = {}) {
  const logs = []
  const wire = { urls: [], in: [], out: [] }
  const { params, ...rest } = opts
  const client = new RealtimeClient(env.realtimeURL, {
    transport: recordingTransport(wire),
    vsn,
    params: { apikey: env.apikey, ...(params || {}) },
    timeout: 5000,
    logger: (kind, msg, data) => {
      logs.push(`${kind}: ${msg}${data === undefined ? '' : ' ' + inspect(data, { depth: 4, breakLength: Infinity })}`)
    },
    ...rest,
  })
  const frames = []
  client.socketAdapter.onMessage((m) => frames.push(m))
  return { client, frames, wire, logs, vsn }
}

/** Disconnects a client, bounded (a wedged socket must not hang the run). */
export async function closeClient(c) {
  try {
    for (const ch of [...c.client.getChannels()]) {
      try {
        ch.teardown()
      } catch {}
    }
    await Promise.race([c.client.disconnect(), sleep(1000)])
  } catch {}
}

// ---------------------------------------------------------------------------
// Waiting

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Polls until get() (sync or async) returns a value other than
 * undefined/null/false, or fails after ms with "timed out waiting for <what>".
 */
export async function waitFor(what, get, ms = 4000) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await get()
    if (v !== undefined && v !== false && v !== null) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(10)
  }
}

/** Resolves with the first subscribe outcome {status, err} of ch. */
export function subscribeOutcome(ch, ms = 6000) {
  const statuses = []
  const first = new Promise((resolve) => {
    ch.subscribe((status, err) => {
      statuses.push({ status, err })
      if (statuses.length === 1) resolve({ status, err, statuses })
    })
  })
  const timeout = sleep(ms).then(() => ({ status: 'NO_OUTCOME', err: undefined, statuses }))
  return Promise.race([first, timeout])
}

/** Subscribes and fails unless the first outcome is SUBSCRIBED. */
export async function subscribed(ch, ms) {
  const out = await subscribeOutcome(ch, ms)
  if (out.status !== 'SUBSCRIBED') {
    throw new Error(`subscribe ${ch.topic}: got ${out.status}${out.err ? ' (' + out.err.message + ')' : ''}, want SUBSCRIBED`)
  }
  return out
}

// ---------------------------------------------------------------------------
// Control endpoint of the Go harness

export async function control(env, path, body) {
  if (!env.control) throw new Error('CONFORMANCE_CONTROL_URL is not set')
  const res = await fetch(env.control + path, body === undefined ? {} : { method: 'POST', body })
  const text = await res.text()
  if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status}: ${text}`)
  return text ? JSON.parse(text) : null
}

export const sql = (env, statement) => control(env, '/sql', statement)

// ---------------------------------------------------------------------------
// Assertions helpers

export function bytesEqual(a, b) {
  const x = new Uint8Array(a)
  const y = new Uint8Array(b)
  return x.length === y.length && x.every((v, i) => v === y[i])
}

/** Collapses an error into one line for the `FAIL <name>: <reason>` output. */
export function oneLine(err) {
  let msg = err && err.message ? err.message : String(err)
  if (err && err.generatedMessage === false && err.actual !== undefined) {
    msg += ` (got ${inspect(err.actual, { depth: 5, breakLength: Infinity })}, want ${inspect(err.expected, { depth: 5, breakLength: Infinity })})`
  }
  msg = msg.replace(/\s*\n\s*/g, ' | ')
  return msg.length > 1500 ? msg.slice(0, 1500) + '…' : msg
}

// ---------------------------------------------------------------------------
// Runner

/**
 * Runs cases and prints one line per case, `ok <name>` or
 * `FAIL <name>: <reason>`, then `N passed, N failed` alone on a line.
 * Returns the number of failures.
 *
 * A case is {name, timeout, fn(t)}; t has:
 *   t.client(vsn?, opts?)  a tracked client (closed after the case)
 *   t.topic(tag)           a unique sub-topic
 *   t.step(text)           names the current step (reported on timeout)
 */
export async function runCases(env, cases) {
  let passed = 0
  let failed = 0
  for (const c of cases) {
    if (env.only && !env.only.test(c.name)) continue
    const clients = []
    let step = 'start'
    const t = {
      name: c.name,
      client(vsn, opts) {
        const cl = makeClient(env, vsn, opts)
        clients.push(cl)
        return cl
      },
      /** A tracked client of another server (project URL url). */
      clientAt(url, vsn, opts) {
        if (!url) throw new Error('this case needs a second server (run through conformance_test.go)')
        const cl = makeClient({ ...env, realtimeURL: url.replace(/^http/i, 'ws') + '/realtime/v1' }, vsn, opts)
        clients.push(cl)
        return cl
      },
      topic(tag) {
        return `${tag}-${crypto.randomBytes(4).toString('hex')}`
      },
      step(s) {
        step = s
      },
    }
    const ms = c.timeout ?? 8000
    let timer
    try {
      await Promise.race([
        c.fn(t),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`case timed out after ${ms} ms (step: ${step})`)), ms)
        }),
      ])
      passed++
      console.log(`ok ${c.name}`)
    } catch (err) {
      failed++
      console.log(`FAIL ${c.name}: ${oneLine(err)}`)
      if (env.debug) {
        for (const cl of clients) console.error(`--- ${c.name} client vsn=${cl.vsn} logs:\n${cl.logs.join('\n')}`)
      }
    } finally {
      clearTimeout(timer)
      await Promise.all(clients.map(closeClient))
    }
  }
  console.log(`${passed} passed, ${failed} failed`)
  return failed
}
