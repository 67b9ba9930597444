// Interop peer: realtime-js on one side of a channel, this module's Go client
// on the other (driven by conformance_test.go, which starts this script).
//
// Coordination goes through the server (presence is the barrier: each side
// sends its broadcasts once it sees the other's presence) plus stdout lines
// the Go side reads:
//
//   READY                 joined, "Subscribed to PostgreSQL" received, tracked
//   RECORD <json>         one postgres change as realtime-js delivered it
//   ok <name> / FAIL <name>: <reason>
//   N passed, N failed    last line
//
// Extra environment (besides lib.mjs's): INTEROP_TOPIC (sub-topic),
// INTEROP_VSN (realtime-js vsn), INTEROP_TABLE (table with the row id=1).

import assert from 'node:assert/strict'

import { bytesEqual, closeClient, makeClient, oneLine, readEnv, subscribed, waitFor } from './lib.mjs'

const env = readEnv()
const topic = process.env.INTEROP_TOPIC
const vsn = process.env.INTEROP_VSN || '2.0.0'
const table = process.env.INTEROP_TABLE || 'interop_items'
if (!topic) {
  console.error('INTEROP_TOPIC is required')
  process.exit(2)
}
const binary = vsn === '2.0.0'

let passed = 0
let failed = 0
const check = async (name, fn) => {
  try {
    await fn()
    passed++
    console.log(`ok ${name}`)
  } catch (err) {
    failed++
    console.log(`FAIL ${name}: ${oneLine(err)}`)
  }
}

const c = makeClient(env, vsn)
const ch = c.client.channel(topic, { config: { presence: { key: 'js' } } })
const got = []
const changes = []
const system = []
const presence = []
ch.on('broadcast', { event: '*' }, (m) => got.push(m))
ch.on('presence', { event: '*' }, (p) => presence.push(p))
ch.on('postgres_changes', { event: '*', schema: 'public', table, filter: 'id=eq.1' }, (p) => {
  changes.push(p)
  console.log(`RECORD ${JSON.stringify(p)}`)
})
ch.on('system', {}, (p) => system.push(p))

let ready = false
await check(`js subscribe [vsn=${vsn}]`, async () => {
  await subscribed(ch, 8000)
  // §7.6: the postgres binding is live once this system message arrives.
  const sys = await waitFor('Subscribed to PostgreSQL', () => system.find((s) => s.extension === 'postgres_changes'), 10000)
  assert.equal(sys.message, 'Subscribed to PostgreSQL')
  assert.equal(sys.status, 'ok')
  assert.equal(await ch.track({ who: 'js', vsn }), 'ok')
  ready = true
})
console.log('READY')

if (ready) {
  // §6: the Go client tracked {"who":"go"} under key "go".
  await check(`js sees go presence [vsn=${vsn}]`, async () => {
    const metas = await waitFor('presence key "go"', () => ch.presenceState().go, 10000)
    assert.equal(metas.length, 1)
    assert.equal(metas[0].who, 'go')
    assert.equal(typeof metas[0].presence_ref, 'string')
  })

  await check(`js sends broadcasts [vsn=${vsn}]`, async () => {
    assert.equal(
      await ch.send({ type: 'broadcast', event: 'from-js', payload: { from: 'js', n: 1, nested: { a: [1, 2] }, s: 'ünï' } }),
      'ok'
    )
    if (binary) {
      assert.equal(
        await ch.send({ type: 'broadcast', event: 'from-js-bin', payload: new Uint8Array([1, 2, 3, 0, 255]).buffer }),
        'ok'
      )
    }
  })

  await check(`js receives go JSON broadcast [vsn=${vsn}]`, async () => {
    const m = await waitFor('from-go', () => got.find((x) => x.event === 'from-go'), 10000)
    assert.deepEqual(m, { type: 'broadcast', event: 'from-go', payload: { from: 'go', n: 2, text: 'héllo', list: [1, 'a', null] } })
  })

  if (binary) {
    await check(`js receives go binary broadcast [vsn=${vsn}]`, async () => {
      const m = await waitFor('from-go-bin', () => got.find((x) => x.event === 'from-go-bin'), 10000)
      assert.equal(m.type, 'broadcast')
      assert.ok(m.payload instanceof ArrayBuffer, 'payload is an ArrayBuffer')
      assert.ok(bytesEqual(m.payload, new Uint8Array([9, 8, 7, 0, 255])), 'payload bytes')
    })
  }

  // The Go side writes INSERT, UPDATE, DELETE of id=1 once it got our broadcasts.
  await check(`js receives postgres changes [vsn=${vsn}]`, async () => {
    await waitFor('3 postgres changes', () => changes.length >= 3, 20000)
    assert.deepEqual(
      changes.map((p) => p.eventType),
      ['INSERT', 'UPDATE', 'DELETE']
    )
  })
}

console.log(`${passed} passed, ${failed} failed`)
await closeClient(c)
process.exit(failed > 0 ? 1 : 0)
