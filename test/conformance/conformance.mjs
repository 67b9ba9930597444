// Conformance suite: @supabase/realtime-js (the oracle) against the server
// under test (test/realtimetest, started by conformance_test.go).
//
// Every case compares what realtime-js delivers (and, where useful, the raw
// frames its transport saw) with what docs/protocol.md says the real
// Supabase Realtime server produces; the § of each expectation is cited next
// to it. Each case runs once per vsn (CONFORMANCE_VSNS, default 2.0.0 and
// 1.0.0) and prints `ok <name>` or `FAIL <name>: <reason>`; the last line is
// `N passed, N failed`. Exit status 1 on any failure.
//
// See lib.mjs for the environment variables.

import assert from 'node:assert/strict'

import {
  bytesEqual,
  control,
  nowSec,
  parseKind3,
  parseKind4,
  readEnv,
  runCases,
  signJWT,
  sql,
  subscribeOutcome,
  subscribed,
  waitFor,
} from './lib.mjs'

const env = readEnv()
const V1 = '1.0.0'
const V2 = '2.0.0'

// ---------------------------------------------------------------------------
// helpers

const userToken = (claims = {}) =>
  signJWT(env.secret, { role: 'authenticated', sub: 'conformance-user', iat: nowSec(), exp: nowSec() + 3600, ...claims })

/** The decoded inbound message matching pred, waited for. */
const frame = (c, what, pred, ms) => waitFor(what, () => c.frames.find(pred), ms)

const joinReplyOf = (c, ch, joinRef) =>
  c.frames.find((m) => m.topic === ch.topic && m.event === 'phx_reply' && m.ref === joinRef)

/** §2.5 origin rules for the join_ref of a server message, per vsn. */
function assertJoinRef(vsn, msg, want, what) {
  if (vsn === V1) {
    // §2.1: V1 server frames carry only topic, event, payload, ref.
    assert.equal(msg.join_ref, undefined, `${what}: V1 frames have no join_ref (§2.1)`)
  } else {
    assert.equal(msg.join_ref, want, `${what}: join_ref (§2.5)`)
  }
}

/** A subscribed channel collecting broadcasts (every event) in `got`. */
async function listener(t, vsn, topic, config = {}) {
  const c = t.client(vsn)
  const ch = c.client.channel(topic, { config })
  const got = []
  ch.on('broadcast', { event: '*' }, (m) => got.push(m))
  await subscribed(ch)
  return { c, ch, got }
}

/** postgres cases need the database and the harness (SQL goes through it). */
function requirePostgres() {
  if (!env.dsn || !env.control) throw new Error('CONFORMANCE_DSN and CONFORMANCE_CONTROL_URL are required')
}

const TS_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

// ---------------------------------------------------------------------------
// cases (each a function of vsn)

const cases = []
const add = (name, vsns, fn, timeout) => {
  for (const vsn of env.vsns) {
    if (vsns.includes(vsn)) cases.push({ name: `${name} [vsn=${vsn}]`, timeout, fn: (t) => fn(t, vsn) })
  }
}
const BOTH = [V1, V2]

// subscribe → SUBSCRIBED; join reply shape; leave.
add('subscribe/status', BOTH, async (t, vsn) => {
  const c = t.client(vsn)
  const ch = c.client.channel(t.topic('subscribe'))
  t.step('subscribe')
  const out = await subscribed(ch)
  assert.equal(out.err, undefined)
  assert.equal(ch.state, 'joined')
  // §1.2/§1.3: phoenix appends /websocket, the params, then vsn last.
  assert.match(c.wire.urls[0], /\/realtime\/v1\/websocket\?apikey=[^&]+&vsn=\d\.0\.0$/)
  assert.ok(c.wire.urls[0].endsWith(`vsn=${vsn}`), `socket URL ${c.wire.urls[0]} carries vsn=${vsn}`)
  const joinRef = ch.joinPush.ref
  const reply = joinReplyOf(c, ch, joinRef)
  assert.ok(reply, 'join reply frame')
  // §3.4: response.postgres_changes is always present, [] without bindings.
  assert.deepEqual(reply.payload, { status: 'ok', response: { postgres_changes: [] } })
  // §2.5: a phx_join reply carries join_ref = ref = the join's ref.
  assertJoinRef(vsn, reply, joinRef, 'join reply')
  // §2.4: realtime-js sends phx_join as a text frame (array in V2, object in V1).
  const joinOut = c.wire.out.find((f) => !f.binary && f.text.includes('"phx_join"'))
  assert.ok(joinOut, 'phx_join sent as a text frame')
  assert.equal(joinOut.text.startsWith('['), vsn === V2, `phx_join framing for vsn ${vsn}: ${joinOut.text}`)
  // §3.2: realtime-js's default join payload (no token set: no access_token).
  const joins = await control(env, '/joins')
  const j = joins.find((x) => x.topic === ch.topic)
  assert.ok(j, 'join recorded by the server')
  assert.deepEqual(j.payload, {
    config: {
      broadcast: { ack: false, self: false },
      postgres_changes: [],
      presence: { enabled: false, key: '' },
      private: false,
    },
  })

  // §4.2: leave → reply ok, then phx_close with ref = join_ref, payload {}.
  t.step('unsubscribe')
  assert.equal(await ch.unsubscribe(), 'ok')
  const close = await frame(c, 'phx_close', (m) => m.topic === ch.topic && m.event === 'phx_close')
  assert.equal(close.ref, joinRef, 'phx_close ref = join_ref (§4.2)')
  assertJoinRef(vsn, close, joinRef, 'phx_close')
  assert.deepEqual(close.payload, {})
})

// §4.1: heartbeat on topic "phoenix", reply {"status":"ok","response":{}}.
add('heartbeat', BOTH, async (t, vsn) => {
  const statuses = []
  const c = t.client(vsn, { heartbeatIntervalMs: 200, heartbeatCallback: (s) => statuses.push(s) })
  const ch = c.client.channel(t.topic('heartbeat'))
  await subscribed(ch)
  t.step('heartbeat ok')
  await waitFor('heartbeat status ok', () => statuses.includes('ok'))
  const reply = c.frames.find((m) => m.topic === 'phoenix' && m.event === 'phx_reply')
  assert.ok(reply, 'heartbeat reply frame')
  assert.deepEqual(reply.payload, { status: 'ok', response: {} })
  assertJoinRef(vsn, reply, null, 'heartbeat reply')
  assert.equal(typeof reply.ref, 'string')
})

// §3.3 step 7 / §3.5 / §10 item 13: join errors for bad channel tokens.
const tokenErrors = [
  ['join/malformed-token', () => 'potato', (m) => assert.equal(m, 'MalformedJWT: The token provided is not a valid JWT')],
  [
    'join/expired-token',
    () => userToken({ exp: nowSec() - 120 }),
    (m) => {
      const r = /^InvalidJWTToken: Token has expired (\d+) seconds ago$/.exec(m)
      assert.ok(r, `reason ${JSON.stringify(m)} is "InvalidJWTToken: Token has expired N seconds ago"`)
      assert.ok(Number(r[1]) >= 119 && Number(r[1]) <= 130, `N = ${r[1]} ≈ 120`)
    },
  ],
  [
    'join/bad-signature',
    () => signJWT('not-the-secret', { role: 'authenticated', exp: nowSec() + 3600 }),
    (m) => assert.equal(m, 'JwtSignatureError: Failed to validate JWT signature'),
  ],
  [
    'join/missing-role',
    () => signJWT(env.secret, { exp: nowSec() + 3600 }),
    (m) => assert.equal(m, 'InvalidJWTToken: Fields `role` and `exp` are required in JWT'),
  ],
]
for (const [name, token, check] of tokenErrors) {
  add(name, BOTH, async (t, vsn) => {
    const c = t.client(vsn)
    await c.client.setAuth(token())
    const ch = c.client.channel(t.topic('badtoken'))
    t.step('subscribe')
    const out = await subscribeOutcome(ch)
    assert.equal(out.status, 'CHANNEL_ERROR', `subscribe status (err: ${out.err && out.err.message})`)
    assert.ok(out.err instanceof Error, 'CHANNEL_ERROR carries an Error')
    check(out.err.message)
    assert.equal(ch.state, 'errored')
    // §3.5: {"status":"error","response":{"reason":"<Code>: <message>"}}.
    const reply = joinReplyOf(c, ch, ch.joinPush.ref)
    assert.ok(reply, 'join error reply frame')
    assert.deepEqual(reply.payload, { status: 'error', response: { reason: out.err.message } })
  })
}

// §5.3 self:true — the sender gets its own message; §5.2 delivery shape.
add('broadcast/self-true', BOTH, async (t, vsn) => {
  const { c, ch, got } = await listener(t, vsn, t.topic('self'), { broadcast: { self: true } })
  const payload = { n: 1, s: 'héllo', f: 1.5, b: true, nested: { a: [1, 2, null] } }
  t.step('send')
  assert.equal(await ch.send({ type: 'broadcast', event: 'ping', payload }), 'ok')
  const m = await waitFor('own broadcast', () => got[0])
  // §5.2: realtime-js exposes {type:"broadcast", event, payload}; no meta for client pushes.
  assert.deepEqual(m, { type: 'broadcast', event: 'ping', payload })
  if (vsn === V2) {
    // §2.4: realtime-js V2 pushes broadcasts as binary kind 3, JSON encoding, no metadata.
    const out = c.wire.out.find((f) => f.binary && f.kind === 3)
    assert.ok(out, 'kind-3 push sent')
    const p3 = parseKind3(out.bytes)
    assert.deepEqual(
      { topic: p3.topic, event: p3.event, encoding: p3.encoding, meta: p3.meta, joinRef: p3.joinRef },
      { topic: ch.topic, event: 'ping', encoding: 1, meta: '', joinRef: ch.joinPush.ref }
    )
    // §5.2: a kind-3 JSON push reaches V2 receivers as kind 4, encoding 1, no metadata.
    const inn = c.wire.in.find((f) => f.binary)
    assert.ok(inn, 'binary frame received')
    const p4 = parseKind4(inn.bytes)
    assert.deepEqual(
      { kind: p4.kind, topic: p4.topic, event: p4.event, encoding: p4.encoding, meta: p4.meta },
      { kind: 4, topic: ch.topic, event: 'ping', encoding: 1, meta: '' }
    )
    assert.deepEqual(JSON.parse(new TextDecoder().decode(p4.payload)), payload)
  } else {
    // §5.2 / §2.1: V1 receivers get the {"event","payload","type"} object, ref null.
    const f = c.frames.find((x) => x.topic === ch.topic && x.event === 'broadcast')
    assert.deepEqual(f.payload, { type: 'broadcast', event: 'ping', payload })
    assert.equal(f.ref, null)
    assert.ok(!c.wire.in.some((x) => x.binary), 'V1 sockets never receive binary frames (§2.1)')
  }
})

// §5.3 self:false — the sender is excluded, other sockets receive it.
add('broadcast/self-false', BOTH, async (t, vsn) => {
  const topic = t.topic('noself')
  const a = await listener(t, vsn, topic, { broadcast: { self: false } })
  const b = await listener(t, vsn, topic)
  const payload = { from: 'a', list: ['x', 'y'] }
  t.step('a sends')
  assert.equal(await a.ch.send({ type: 'broadcast', event: 'ping', payload }), 'ok')
  const m = await waitFor('b receives ping', () => b.got.find((x) => x.event === 'ping'))
  assert.deepEqual(m, { type: 'broadcast', event: 'ping', payload })
  // b answers with a marker; a's socket gets fan-outs in order, so had the
  // server echoed "ping" to a it would have arrived before the marker.
  t.step('b sends marker')
  assert.equal(await b.ch.send({ type: 'broadcast', event: 'marker', payload: {} }), 'ok')
  await waitFor('a receives marker', () => a.got.find((x) => x.event === 'marker'))
  assert.deepEqual(
    a.got.map((x) => x.event),
    ['marker'],
    'sender with self:false must not get its own broadcast (§5.3)'
  )
})

// §5.3 ack:true — send() resolves "ok" from the server's reply.
add('broadcast/ack', BOTH, async (t, vsn) => {
  const { c, ch } = await listener(t, vsn, t.topic('ack'), { broadcast: { ack: true } })
  const before = c.frames.length
  t.step('send with ack')
  assert.equal(await ch.send({ type: 'broadcast', event: 'acked', payload: { x: 1 } }), 'ok')
  const reply = c.frames.slice(before).find((m) => m.topic === ch.topic && m.event === 'phx_reply')
  assert.ok(reply, 'ack reply frame')
  // §5.3: {"status":"ok","response":{}}, a text frame even for a binary push.
  assert.deepEqual(reply.payload, { status: 'ok', response: {} })
  // §2.5: replies to client pushes carry the request's join_ref.
  assertJoinRef(vsn, reply, ch.joinPush.ref, 'ack reply')
  assert.notEqual(reply.ref, ch.joinPush.ref, 'ack reply ref is the push ref')
})

// §5.2 binary payloads: kind 4 encoding 0 to V2 sockets; never to V1 sockets.
add('broadcast/binary', BOTH, async (t, vsn) => {
  const topic = t.topic('binary')
  const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255])
  const httpBytes = new Uint8Array([9, 8, 7, 0])
  // Only a V2 client can push binary (§2.3 kind 3); it also receives.
  const sender = await listener(t, V2, topic, { broadcast: { self: true } })
  const recv = vsn === V2 ? await listener(t, V2, topic) : await listener(t, V1, topic)
  t.step('binary push')
  assert.equal(await sender.ch.send({ type: 'broadcast', event: 'bin', payload: bytes.buffer }), 'ok')
  if (vsn === V2) {
    const out = sender.c.wire.out.find((f) => f.binary && f.kind === 3)
    assert.ok(out, 'kind-3 push sent')
    assert.equal(parseKind3(out.bytes).encoding, 0, 'binary push uses encoding 0 (§2.3)')
  }
  const own = await waitFor('sender gets own binary', () => sender.got.find((m) => m.event === 'bin'))
  assert.ok(own.payload instanceof ArrayBuffer, 'payload is an ArrayBuffer')
  assert.ok(bytesEqual(own.payload, bytes), 'payload bytes')
  // §5.6 b: application/octet-stream on the single-event endpoint.
  t.step('httpSend binary')
  const http = t.client(V2).client.channel(topic)
  assert.deepEqual(await http.httpSend('bin-http', httpBytes.buffer), { success: true })
  await waitFor('sender gets http binary', () => sender.got.find((m) => m.event === 'bin-http'))

  if (vsn === V2) {
    for (const [ev, want] of [
      ['bin', bytes],
      ['bin-http', httpBytes],
    ]) {
      const m = await waitFor(`receiver gets ${ev}`, () => recv.got.find((x) => x.event === ev))
      assert.equal(m.type, 'broadcast')
      assert.ok(m.payload instanceof ArrayBuffer, `${ev}: payload is an ArrayBuffer`)
      assert.ok(bytesEqual(m.payload, want), `${ev}: payload bytes`)
      assert.ok(!('meta' in m), `${ev}: no meta`)
    }
    // §5.2: kind 4, encoding 0, no metadata.
    const f = recv.c.wire.in.filter((x) => x.binary).map((x) => parseKind4(x.bytes))
    assert.deepEqual(
      f.map((p) => [p.kind, p.event, p.encoding, p.meta]),
      [
        [4, 'bin', 0, ''],
        [4, 'bin-http', 0, ''],
      ]
    )
  } else {
    // §5.2: "kind-3 push with binary encoding, HTTP octet-stream → V1 receiver: not delivered".
    // A JSON marker sent afterwards arrives; fan-out is ordered per socket.
    t.step('marker')
    assert.equal(await sender.ch.send({ type: 'broadcast', event: 'marker', payload: { m: 1 } }), 'ok')
    await waitFor('V1 receiver gets marker', () => recv.got.find((m) => m.event === 'marker'))
    assert.deepEqual(
      recv.got.map((m) => m.event),
      ['marker'],
      'binary broadcasts must not reach vsn 1.0.0 sockets (§5.2)'
    )
    assert.ok(!recv.c.wire.in.some((x) => x.binary), 'no binary frame on a V1 socket (§2.1)')
  }
})

// §6: presence sync, join and leave between two realtime-js clients.
add('presence/sync-join-leave', BOTH, async (t, vsn) => {
  const topic = t.topic('presence')
  const mk = async (key) => {
    const c = t.client(vsn)
    const ch = c.client.channel(topic, { config: { presence: { key } } })
    const ev = []
    ch.on('presence', { event: '*' }, (p) => ev.push(p))
    await subscribed(ch)
    return { c, ch, ev }
  }
  const a = await mk('alice')
  t.step('alice tracks')
  assert.equal(await a.ch.track({ user: 'alice', n: 1 }), 'ok')
  // §6.2: presence_diff is delivered to the tracker itself too.
  const aliceJoin = await waitFor('alice sees own join', () => a.ev.find((e) => e.event === 'join' && e.key === 'alice'))
  const b = await mk('bob')
  t.step('bob tracks')
  assert.equal(await b.ch.track({ user: 'bob' }), 'ok')

  const join = await waitFor('alice sees bob join', () => a.ev.find((e) => e.event === 'join' && e.key === 'bob'))
  // §6.3: metas exposed with phx_ref renamed presence_ref, phx_ref_prev removed.
  assert.deepEqual(join.currentPresences, [])
  assert.equal(join.newPresences.length, 1)
  const bobRef = join.newPresences[0].presence_ref
  assert.equal(typeof bobRef, 'string')
  assert.ok(bobRef.length > 0, 'presence_ref not empty')
  assert.deepEqual(join.newPresences[0], { presence_ref: bobRef, user: 'bob' })
  assert.ok(a.ev.some((e) => e.event === 'sync'), 'sync event after the diff (§6.3)')
  const aliceRef = aliceJoin.newPresences[0].presence_ref
  assert.deepEqual(a.ch.presenceState(), {
    alice: [{ presence_ref: aliceRef, user: 'alice', n: 1 }],
    bob: [{ presence_ref: bobRef, user: 'bob' }],
  })
  // bob got alice from presence_state (§3.6, §6.2), then his own join diff.
  t.step('bob state')
  await waitFor('bob sees alice and himself', () => {
    const s = b.ch.presenceState()
    return s.alice && s.bob
  })
  assert.deepEqual(b.ch.presenceState(), a.ch.presenceState())

  // Raw frames (§2.5): presence_state pushed by the channel carries the join_ref;
  // presence_diff is fastlaned (join_ref null).
  const state = b.c.frames.find((m) => m.topic === b.ch.topic && m.event === 'presence_state')
  assert.ok(state, 'bob got presence_state')
  assertJoinRef(vsn, state, b.ch.joinPush.ref, 'presence_state')
  assert.equal(state.ref, null)
  assert.deepEqual(Object.keys(state.payload), ['alice'])
  assert.equal(state.payload.alice.metas[0].phx_ref, aliceRef)
  const diff = a.c.frames.find((m) => m.event === 'presence_diff' && m.payload.joins && m.payload.joins.bob)
  assertJoinRef(vsn, diff, null, 'presence_diff')
  assert.deepEqual(diff.payload, { joins: { bob: { metas: [{ phx_ref: bobRef, user: 'bob' }] } }, leaves: {} })

  // §6.2: untrack produces a leaves entry.
  t.step('bob untracks')
  assert.equal(await b.ch.untrack(), 'ok')
  const leave = await waitFor('alice sees bob leave', () => a.ev.find((e) => e.event === 'leave' && e.key === 'bob'))
  assert.deepEqual(leave.leftPresences, [{ presence_ref: bobRef, user: 'bob' }])
  assert.deepEqual(leave.currentPresences, [])
  assert.deepEqual(Object.keys(a.ch.presenceState()), ['alice'])
})

// §7: postgres_changes INSERT / UPDATE / DELETE with a filter on a real table.
add(
  'postgres/insert-update-delete',
  BOTH,
  async (t, vsn) => {
    requirePostgres()
    await sql(env, 'delete from public.conformance_items')
    const c = t.client(vsn)
    const ch = c.client.channel(t.topic('pg'))
    const changes = []
    const system = []
    const binding = { event: '*', schema: 'public', table: 'conformance_items', filter: 'id=eq.1' }
    ch.on('postgres_changes', binding, (p) => changes.push(p))
    ch.on('system', {}, (p) => system.push(p))
    t.step('subscribe')
    await subscribed(ch)
    // §3.4: the binding is echoed as sent, plus an integer id.
    const reply = joinReplyOf(c, ch, ch.joinPush.ref)
    const echoed = reply.payload.response.postgres_changes
    assert.equal(echoed.length, 1)
    const { id, ...rest } = echoed[0]
    assert.deepEqual(rest, binding, 'binding echoed verbatim (§3.4)')
    assert.ok(Number.isInteger(id), `binding id ${JSON.stringify(id)} is an integer (§3.4)`)
    // §3.6 / §7.6: "Subscribed to PostgreSQL" system message.
    t.step('system message')
    const sys = await waitFor('Subscribed to PostgreSQL', () => system[0], 10000)
    assert.deepEqual(sys, {
      channel: ch.subTopic,
      extension: 'postgres_changes',
      message: 'Subscribed to PostgreSQL',
      status: 'ok',
    })
    const sysFrame = c.frames.find((m) => m.topic === ch.topic && m.event === 'system')
    assertJoinRef(vsn, sysFrame, ch.joinPush.ref, 'system message')

    t.step('sql')
    // id=2 does not match the filter (§7.4) and comes first in the WAL.
    await sql(env, `insert into public.conformance_items (id, title, done, tags, meta, amount, at)
                    values (2, 'other', false, '{}', '{}', 0, now())`)
    await sql(env, `insert into public.conformance_items (id, title, done, tags, meta, amount, at)
                    values (1, 'first', false, '{x,"y z"}', '{"k":1,"nested":{"s":"v"},"arr":[1,"two"]}',
                            12.50, '2026-01-02 03:04:05.123456+00')`)
    await sql(env, `update public.conformance_items set title = 'second', done = true, amount = 13 where id = 1`)
    await sql(env, `delete from public.conformance_items where id = 1`)
    await sql(env, `delete from public.conformance_items where id = 2`)
    t.step('changes')
    await waitFor('3 changes', () => changes.length >= 3, 10000)

    // §7.3: values typed like to_jsonb (numbers, booleans, arrays, jsonb objects,
    // timestamptz "…+00:00"); §7.2: old_record = replica identity (the PK).
    const row = {
      id: 1,
      title: 'first',
      done: false,
      tags: ['x', 'y z'],
      meta: { k: 1, nested: { s: 'v' }, arr: [1, 'two'] },
      amount: 12.5,
      at: '2026-01-02T03:04:05.123456+00:00',
    }
    const want = [
      { eventType: 'INSERT', new: row, old: {} },
      { eventType: 'UPDATE', new: { ...row, title: 'second', done: true, amount: 13 }, old: { id: 1 } },
      { eventType: 'DELETE', new: {}, old: { id: 1 } },
    ]
    assert.equal(changes.length, 3, 'exactly the three id=1 changes (filter id=eq.1)')
    changes.forEach((p, i) => {
      const { commit_timestamp, ...fields } = p
      // §7.2: commit_timestamp is UTC "YYYY-MM-DDTHH:MM:SS.mmmZ"; errors null.
      assert.match(commit_timestamp, TS_RE, `${p.eventType} commit_timestamp format (§7.2)`)
      assert.ok(Math.abs(Date.parse(commit_timestamp) - Date.now()) < 60000, 'commit_timestamp is recent')
      assert.deepEqual(fields, { schema: 'public', table: 'conformance_items', errors: null, ...want[i] }, `change #${i + 1}`)
    })

    // Raw frames (§7.2): ids = [binding id]; fastlaned (§2.5); typed columns.
    const raw = c.frames.filter((m) => m.topic === ch.topic && m.event === 'postgres_changes')
    assert.equal(raw.length, 3)
    for (const m of raw) {
      assert.deepEqual(m.payload.ids, [id])
      assertJoinRef(vsn, m, null, 'postgres_changes')
      assert.equal(m.ref, null)
      assert.deepEqual(m.payload.data.columns, [
        { name: 'id', type: 'int4' },
        { name: 'title', type: 'text' },
        { name: 'done', type: 'bool' },
        { name: 'tags', type: '_text' },
        { name: 'meta', type: 'jsonb' },
        { name: 'amount', type: 'numeric' },
        { name: 'at', type: 'timestamptz' },
      ])
    }
    assert.ok(!('old_record' in raw[0].payload.data), 'INSERT has no old_record (§7.2)')
    assert.ok(!('record' in raw[2].payload.data), 'DELETE has no record (§7.2)')
  },
  25000
)

// §7.4 / §7.6 / §10 items 5–6: binding errors do not fail the join; a system
// message with status "error" follows (realtime-js forwards it to "system").
const pgErrors = [
  [
    'postgres/filter-parse-error',
    { event: '*', schema: 'public', table: 'conformance_items', filter: 'wrong' },
    'Error parsing `filter` params: ["wrong"]',
  ],
  [
    'postgres/filter-value-error',
    { event: '*', schema: 'public', table: 'conformance_items', filter: 'id=eq.hey' },
    'Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: ' +
      '[event: *, schema: public, table: conformance_items, filters: [{"id", "eq", "hey", false}], select: nil]. ' +
      'Exception: ERROR 22P02 (invalid_text_representation) invalid input syntax for type integer: "hey"',
  ],
  [
    'postgres/table-not-published',
    { event: 'INSERT', schema: 'public', table: 'conformance_unpublished' },
    'Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: ' +
      '[event: INSERT, schema: public, table: conformance_unpublished, filters: [], select: nil]',
  ],
]
for (const [name, binding, message] of pgErrors) {
  add(
    name,
    BOTH,
    async (t, vsn) => {
      requirePostgres()
      const c = t.client(vsn)
      const ch = c.client.channel(t.topic('pgerr'))
      const system = []
      ch.on('postgres_changes', binding, () => {})
      ch.on('system', {}, (p) => system.push(p))
      t.step('subscribe')
      await subscribed(ch) // §7.4: "neither fails the join"
      const sys = await waitFor('postgres_changes system error', () => system[0], 10000)
      assert.deepEqual(sys, { channel: ch.subTopic, extension: 'postgres_changes', message, status: 'error' })
      assert.equal(ch.state, 'joined', 'system errors do not change the channel state (§7.6)')
    },
    15000
  )
}

// §5.6 b: httpSend → single-event endpoint; delivered as a user broadcast.
add('http/httpSend', BOTH, async (t, vsn) => {
  const topic = t.topic('httpsend')
  const a = await listener(t, vsn, topic)
  const sender = t.client(vsn).client.channel(topic) // never joined, never connected
  const payload = { a: 1, b: 'two', c: [true, null] }
  t.step('httpSend')
  assert.deepEqual(await sender.httpSend('http-single', payload), { success: true })
  const m = await waitFor('subscriber gets http-single', () => a.got.find((x) => x.event === 'http-single'))
  assert.deepEqual(m, { type: 'broadcast', event: 'http-single', payload })
  if (vsn === V2) {
    // §5.2: HTTP single-event JSON → kind 4, encoding 1.
    const p4 = parseKind4(a.c.wire.in.find((f) => f.binary).bytes)
    assert.deepEqual([p4.kind, p4.event, p4.encoding, p4.meta], [4, 'http-single', 1, ''])
  }
  // §1.2 step 3 / §10 item 21: POST …/api/broadcast/{topic}/events/{event}?apikey=…&vsn=…
  const reqs = await control(env, '/http-requests')
  const r = reqs.find((x) => x.path === `/realtime/v1/api/broadcast/${topic}/events/http-single`)
  assert.ok(r, `request to the single-event endpoint (got ${reqs.map((x) => x.path).join(', ')})`)
  assert.equal(r.status, 202)
  assert.equal(r.query.vsn, vsn)
  assert.equal(r.query.apikey, env.apikey)
  assert.equal(r.headers.apikey, env.apikey)
  assert.equal(r.headers['content-type'], 'application/json')
  assert.deepEqual(JSON.parse(r.body), payload)
})

// §5.6 / §4.6: send() on a channel that is not joined falls back to the batch endpoint.
add('http/send-fallback', BOTH, async (t, vsn) => {
  const topic = t.topic('fallback')
  const a = await listener(t, vsn, topic)
  const b = t.client(vsn)
  const ch = b.client.channel(topic) // not subscribed → canPush() is false
  const payload = { c: 3, nested: { d: 'e' } }
  t.step('send')
  assert.equal(await ch.send({ type: 'broadcast', event: 'fallback', payload }), 'ok')
  const m = await waitFor('subscriber gets fallback', () => a.got.find((x) => x.event === 'fallback'))
  assert.deepEqual(m, { type: 'broadcast', event: 'fallback', payload })
  // §5.6 a + §5.2: batch messages arrive as text broadcasts {"payload","event","type"}, fastlaned.
  const f = a.c.frames.find((x) => x.topic === a.ch.topic && x.event === 'broadcast')
  assert.deepEqual(f.payload, { type: 'broadcast', event: 'fallback', payload })
  assertJoinRef(vsn, f, null, 'batch broadcast')
  assert.ok(!a.c.wire.in.some((x) => x.binary), 'batch API broadcasts are text frames (§5.2)')
  const reqs = await control(env, '/http-requests')
  const r = reqs.find((x) => x.path === '/realtime/v1/api/broadcast' && x.body.includes(topic))
  assert.ok(r, 'request to the batch endpoint')
  assert.equal(r.status, 202)
  assert.equal(r.query.vsn, vsn)
  assert.deepEqual(JSON.parse(r.body), { messages: [{ topic, event: 'fallback', payload, private: false }] })
  assert.ok(b.logs.some((l) => /falling back to REST/.test(l)), 'realtime-js logged the fallback')
})

// §8.1: setAuth pushes access_token on joined channels; no reply; later joins carry it.
add('auth/setAuth-refresh', BOTH, async (t, vsn) => {
  const { c, ch, got } = await listener(t, vsn, t.topic('setauth'), { broadcast: { self: true } })
  const jwt = userToken({ sub: `setauth-${vsn}` })
  const before = c.frames.length
  t.step('setAuth')
  await c.client.setAuth(jwt)
  // The server handles a socket's pushes in order: once the following
  // broadcast is echoed, the access_token push has been processed.
  assert.equal(await ch.send({ type: 'broadcast', event: 'after', payload: {} }), 'ok')
  await waitFor('own broadcast after setAuth', () => got.find((m) => m.event === 'after'))
  const out = c.wire.out.find((f) => !f.binary && f.text.includes('"access_token"') && f.text.includes(jwt) && !f.text.includes('phx_join'))
  assert.ok(out, 'realtime-js pushed access_token')
  const tokens = await control(env, '/access-tokens')
  assert.ok(
    tokens.some((x) => x.topic === ch.topic && x.token === jwt),
    'server recorded the access_token push (§8.1)'
  )
  assert.ok(
    !c.frames.slice(before).some((m) => m.topic === ch.topic && (m.event === 'phx_reply' || m.event === 'system' || m.event === 'phx_close')),
    'access_token gets no reply and a valid token keeps the channel (§8.1)'
  )
  assert.equal(ch.state, 'joined')
  // §3.2: later joins carry the token as access_token.
  t.step('second join')
  const ch2 = c.client.channel(t.topic('setauth2'))
  await subscribed(ch2)
  const joins = await control(env, '/joins')
  const j = joins.find((x) => x.topic === ch2.topic)
  assert.ok(j, 'join recorded')
  assert.equal(j.access_token, jwt)
  // §5.6: HTTP requests carry Authorization: Bearer <access token>.
  t.step('httpSend with token')
  assert.deepEqual(await ch2.httpSend('authed', { k: 1 }), { success: true })
  const reqs = await control(env, '/http-requests')
  const r = reqs.find((x) => x.path === `/realtime/v1/api/broadcast/${ch2.subTopic}/events/authed`)
  assert.equal(r.headers.authorization, `Bearer ${jwt}`)
})

// §8.1: with an accessToken() callback the token goes into the join, and the
// callback is asked again on every heartbeat "sent"; a changed token is pushed
// as access_token.
//
// Note (realtime-js 2.119.0, not a server matter): subscribe() right after
// construction builds the phx_join before the callback's promise resolved, so
// that join carries no access_token, and the post-join setAuth() sees an
// unchanged value and pushes nothing. Hence setAuth() is awaited first here,
// as supabase-js effectively does.
add('auth/accessToken-callback', BOTH, async (t, vsn) => {
  const first = userToken({ sub: `callback-${vsn}` })
  const second = userToken({ sub: `callback-${vsn}-refreshed` })
  let token = first
  let calls = 0
  const c = t.client(vsn, {
    heartbeatIntervalMs: 300,
    accessToken: async () => {
      calls++
      return token
    },
  })
  await c.client.setAuth() // callback mode: fetch and cache the token
  const ch = c.client.channel(t.topic('callback'))
  await subscribed(ch)
  assert.ok(calls >= 1, 'accessToken callback called')
  const joins = await control(env, '/joins')
  const j = joins.find((x) => x.topic === ch.topic)
  assert.ok(j, 'join recorded')
  assert.equal(j.access_token, first, 'phx_join carries access_token (§3.2)')
  t.step('refresh on heartbeat')
  token = second
  const pushed = await waitFor('refreshed token pushed', async () =>
    (await control(env, '/access-tokens')).find((x) => x.topic === ch.topic && x.token === second)
  )
  assert.equal(pushed.join_ref, ch.joinPush.ref)
  // A 300 ms heartbeat can time out on a loaded machine and make the
  // channel rejoin; what matters is that it ends up joined.
  await waitFor('joined', () => ch.state === 'joined')
})

// §8.1 / §4.3 / §10 item 13: refreshing with an expired token shuts the channel:
// system error, then phx_close → CLOSED (no rejoin).
add('auth/refresh-expired-token', BOTH, async (t, vsn) => {
  const c = t.client(vsn)
  const ch = c.client.channel(t.topic('expired'))
  const system = []
  ch.on('system', {}, (p) => system.push(p))
  const out = await subscribeOutcome(ch)
  assert.equal(out.status, 'SUBSCRIBED')
  const joinRef = ch.joinPush.ref
  t.step('setAuth expired')
  await c.client.setAuth(userToken({ exp: nowSec() - 30 }))
  const sys = await waitFor('system error', () => system[0])
  assert.match(sys.message, /^Token has expired \d+ seconds ago$/)
  assert.deepEqual({ ...sys, message: '' }, { channel: ch.subTopic, extension: 'system', message: '', status: 'error' })
  await waitFor('CLOSED', () => out.statuses.some((s) => s.status === 'CLOSED'))
  const sysFrame = c.frames.find((m) => m.topic === ch.topic && m.event === 'system')
  assertJoinRef(vsn, sysFrame, joinRef, 'system error')
  assert.equal(sysFrame.ref, null)
  const close = c.frames.find((m) => m.topic === ch.topic && m.event === 'phx_close')
  assert.ok(close, 'phx_close')
  assert.equal(close.ref, joinRef, 'phx_close ref = join_ref (§2.5)')
  assert.ok(c.frames.indexOf(sysFrame) < c.frames.indexOf(close), 'system message before phx_close')
})

// §8.2: the server re-checks the channel token at exp and closes the channel.
add(
  'auth/token-expiry-recheck',
  BOTH,
  async (t, vsn) => {
    const c = t.client(vsn)
    await c.client.setAuth(userToken({ exp: nowSec() + 2 }))
    const ch = c.client.channel(t.topic('expiry'))
    const system = []
    ch.on('system', {}, (p) => system.push(p))
    const out = await subscribeOutcome(ch)
    assert.equal(out.status, 'SUBSCRIBED')
    t.step('wait for expiry')
    const sys = await waitFor('Token has expired', () => system[0], 6000)
    // §8.2 example: "Token has expired 0 seconds ago" (N is whole seconds
    // past exp when the server's re-check fired: 0 unless the machine is
    // loaded).
    assert.match(sys.message, /^Token has expired \d+ seconds ago$/)
    assert.deepEqual({ ...sys, message: '' }, { channel: ch.subTopic, extension: 'system', message: '', status: 'error' })
    await waitFor('CLOSED', () => out.statuses.some((s) => s.status === 'CLOSED'))
  },
  10000
)

// ---------------------------------------------------------------------------
// The local server behaves like the real one: row-level security, the
// database checks, the limits and the join payload details. Each case names
// the file of supabase/realtime it follows.

/** Subscribes ch to postgres_changes on binding and waits for "Subscribed to PostgreSQL"; returns the changes array. */
async function pgSubscribed(t, ch, binding) {
  const changes = []
  const system = []
  ch.on('postgres_changes', binding, (p) => changes.push(p))
  ch.on('system', {}, (p) => system.push(p))
  t.step('subscribe')
  await subscribed(ch)
  await waitFor('Subscribed to PostgreSQL', () => system.find((m) => m.message === 'Subscribed to PostgreSQL'), 10000)
  return { changes, system }
}

// priv/repo/tenant_schema/realtime/functions/apply_rls.sql: each row is
// checked under the subscriber's role with request.jwt.claims set; rows a
// policy hides are not sent.
add(
  'rls/own-rows-only',
  BOTH,
  async (t, vsn) => {
    requirePostgres()
    const binding = { event: 'INSERT', schema: 'public', table: 'conformance_rls' }
    const subs = []
    for (const who of ['alice', 'bob']) {
      const c = t.client(vsn)
      await c.client.setAuth(userToken({ sub: `${who}-${vsn}` }))
      const ch = c.client.channel(t.topic(`rls-${who}`))
      subs.push(await pgSubscribed(t, ch, binding))
    }
    t.step('sql')
    const base = vsn === V2 ? 100 : 200
    await sql(env, `insert into public.conformance_rls values (${base + 1}, 'alice-${vsn}', 'for alice')`)
    await sql(env, `insert into public.conformance_rls values (${base + 2}, 'bob-${vsn}', 'for bob')`)
    const [alice, bob] = subs
    await waitFor("bob's row", () => bob.changes[0], 10000)
    await waitFor("alice's row", () => alice.changes[0], 10000)
    assert.equal(bob.changes[0].new.id, base + 2, "bob's first change is his own row: alice's was withheld")
    assert.equal(alice.changes[0].new.id, base + 1)
    assert.deepEqual(alice.changes[0].new, { id: base + 1, owner: `alice-${vsn}`, body: 'for alice' })
    assert.deepEqual(alice.changes[0].errors, null)
  },
  20000
)

// apply_rls.sql: "if RLS enabled, we can't secure deletes so filter to
// pkey" — every subscriber gets the DELETE, old_record holds the key only.
add(
  'rls/delete-primary-key-only',
  BOTH,
  async (t, vsn) => {
    requirePostgres()
    const id = vsn === V2 ? 300 : 400
    await sql(env, `insert into public.conformance_rls values (${id}, 'someone', 'secret body')`)
    const c = t.client(vsn)
    await c.client.setAuth(userToken({ sub: `deleter-${vsn}` }))
    const ch = c.client.channel(t.topic('rls-del'))
    const { changes } = await pgSubscribed(t, ch, { event: 'DELETE', schema: 'public', table: 'conformance_rls' })
    t.step('sql')
    await sql(env, `delete from public.conformance_rls where id = ${id}`)
    const del = await waitFor('DELETE', () => changes[0], 10000)
    assert.equal(del.eventType, 'DELETE')
    assert.deepEqual(del.old, { id })
  },
  20000
)

// apply_rls.sql: a role that may not select the primary key gets
// errors ["Error 401: Unauthorized"] and no values.
add(
  'rls/unauthorized-401',
  BOTH,
  async (t, vsn) => {
    requirePostgres()
    const c = t.client(vsn)
    const ch = c.client.channel(t.topic('rls-401'))
    const { changes } = await pgSubscribed(t, ch, { event: 'INSERT', schema: 'public', table: 'conformance_noselect' })
    t.step('sql')
    await sql(env, `insert into public.conformance_noselect values (${vsn === V2 ? 1 : 2})`)
    const got = await waitFor('401 change', () => changes[0], 10000)
    assert.deepEqual(got.errors, ['Error 401: Unauthorized'])
    assert.deepEqual(got.new, {})
    const raw = c.frames.find((m) => m.topic === ch.topic && m.event === 'postgres_changes')
    assert.deepEqual(raw.payload.data.record, {})
    assert.deepEqual(raw.payload.data.columns, [])
  },
  20000
)

// lib/extensions/postgres_cdc_rls/subscriptions.ex + the claims_role
// column of realtime.subscription ((claims ->> 'role')::regrole): a role
// that does not exist fails the subscription, the join stays.
add(
  'rls/missing-role',
  BOTH,
  async (t, vsn) => {
    requirePostgres()
    const c = t.client(vsn)
    await c.client.setAuth(signJWT(env.secret, { role: 'ghost', iat: nowSec(), exp: nowSec() + 3600 }))
    const ch = c.client.channel(t.topic('rls-ghost'))
    const system = []
    ch.on('postgres_changes', { event: '*', schema: 'public', table: 'conformance_rls' }, () => {})
    ch.on('system', {}, (p) => system.push(p))
    await subscribed(ch)
    const sys = await waitFor('system error', () => system[0], 10000)
    assert.deepEqual(sys, {
      channel: ch.subTopic,
      extension: 'postgres_changes',
      status: 'error',
      message:
        'Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: ' +
        '[event: *, schema: public, table: conformance_rls, filters: [], select: nil]. ' +
        'Exception: ERROR 42704 (undefined_object) role "ghost" does not exist',
    })
  },
  15000
)

// lib/realtime_web/channels/realtime_channel.ex: access_token re-subscribes
// postgres_changes with the new claims (a second "Subscribed to PostgreSQL").
add(
  'rls/access-token-resubscribes',
  BOTH,
  async (t, vsn) => {
    requirePostgres()
    const c = t.client(vsn)
    await c.client.setAuth(userToken({ sub: `first-${vsn}` }))
    const ch = c.client.channel(t.topic('rls-refresh'))
    const { changes, system } = await pgSubscribed(t, ch, { event: 'INSERT', schema: 'public', table: 'conformance_rls' })
    t.step('setAuth')
    await c.client.setAuth(userToken({ sub: `second-${vsn}` }))
    await waitFor(
      'second Subscribed to PostgreSQL',
      () => system.filter((m) => m.message === 'Subscribed to PostgreSQL').length === 2,
      10000
    )
    t.step('sql')
    const base = vsn === V2 ? 500 : 600
    await sql(env, `insert into public.conformance_rls values (${base + 1}, 'first-${vsn}', 'old identity')`)
    await sql(env, `insert into public.conformance_rls values (${base + 2}, 'second-${vsn}', 'new identity')`)
    const got = await waitFor('change', () => changes[0], 10000)
    assert.equal(got.new.id, base + 2, 'the refreshed claims decide')
  },
  20000
)

// realtime_channel.ex: Connect.lookup_or_start_connection →
// {:error, :tenant_database_unavailable} fails the join.
add(
  'database/unreachable-fails-the-join',
  BOTH,
  async (t, vsn) => {
    const c = t.clientAt(env.downURL, vsn)
    const ch = c.client.channel(t.topic('down'))
    ch.on('postgres_changes', { event: '*', schema: 'public' }, () => {})
    const out = await subscribeOutcome(ch)
    assert.equal(out.status, 'CHANNEL_ERROR', `status (err: ${out.err && out.err.message})`)
    assert.equal(out.err.message, 'UnableToConnectToProject: Realtime was unable to connect to the project database')
  },
  15000
)

// realtime_channel.ex handle_info(:update_rate_counter): the message is
// delivered, then the channel is shut down with "Too many messages per
// second" (tenants.ex events_per_second_rate).
add(
  'limits/events-delivered-then-shutdown',
  BOTH,
  async (t, vsn) => {
    const c = t.clientAt(env.limitedURL, vsn)
    const ch = c.client.channel(t.topic('hot'), { config: { broadcast: { self: true } } })
    const got = []
    ch.on('broadcast', { event: '*' }, (m) => got.push(m))
    const out = subscribeOutcome(ch)
    assert.equal((await out).status, 'SUBSCRIBED')
    t.step('send')
    // Each send counts twice (the push and its delivery to self).
    for (let i = 0; i < env.eventsLimit && !c.frames.some((m) => m.topic === ch.topic && m.event === 'system'); i++) {
      await ch.send({ type: 'broadcast', event: 'm', payload: { i } })
    }
    const sys = await waitFor(
      'Too many messages per second',
      () => c.frames.find((m) => m.topic === ch.topic && m.event === 'system'),
      5000
    )
    assert.equal(sys.payload.message, 'Too many messages per second')
    const events = c.frames.filter((m) => m.topic === ch.topic && ['broadcast', 'system', 'phx_close'].includes(m.event)).map((m) => m.event)
    const firstSystem = events.indexOf('system')
    assert.ok(firstSystem > 0 && events[firstSystem - 1] === 'broadcast', `the message that hit the limit was delivered first: ${events}`)
    await waitFor('phx_close', () => c.frames.find((m) => m.topic === ch.topic && m.event === 'phx_close'))
  },
  15000
)

// lib/realtime_web/channels/payloads/join.ex presence_key/1: without a key
// the server uses a random UUID, so two clients do not merge.
add('presence/no-key-random-uuid', BOTH, async (t, vsn) => {
  const topic = t.topic('nokey')
  const chans = []
  for (let i = 0; i < 2; i++) {
    const c = t.client(vsn)
    const ch = c.client.channel(topic, { config: { presence: { enabled: true } } })
    ch.on('presence', { event: 'sync' }, () => {})
    await subscribed(ch)
    assert.equal(await ch.track({ i }), 'ok')
    chans.push(ch)
  }
  const state = await waitFor('two presences', () => {
    const s = chans[0].presenceState()
    return Object.keys(s).length === 2 ? s : undefined
  })
  for (const key of Object.keys(state)) {
    assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `presence key ${key} is a UUID`)
  }
})

// realtime_channel.ex maybe_replay_messages + messages.ex replay/5: "since"
// is required; limit defaults to 25. Ecto's boolean cast reads
// private:"true" as true (payloads/join.ex), so replay is allowed.
add('replay/since-required-and-private-string', BOTH, async (t, vsn) => {
  const c = t.client(vsn)
  const bad = c.client.channel(t.topic('replay'), { config: { private: true, broadcast: { replay: { limit: 3 } } } })
  const out = await subscribeOutcome(bad)
  assert.equal(out.status, 'CHANNEL_ERROR')
  assert.equal(out.err.message, 'UnableToReplayMessages: Replay params are not valid')
  const ok = c.client.channel(t.topic('replay-ok'), { config: { private: 'true', broadcast: { replay: { since: 0 } } } })
  await subscribed(ok)
})

process.exitCode = (await runCases(env, cases)) > 0 ? 1 : 0
// realtime-js keeps timers (rejoin, reconnect) alive; end explicitly.
process.exit()
