// Calibration for B1 (test/bench/calibrate.go): the least a Node
// application does to count broadcasts with realtime-js. No request
// protocol, no timers, no checks: create a RealtimeClient with the `ws`
// transport, bind on('broadcast', {event}), count callbacks.
//
// Usage: node minimal.mjs URL VSN ID N
// Prints "ready" once the channel is SUBSCRIBED, then the wall-clock Unix
// nanoseconds at every N-th callback; exits when stdin closes.

import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, '..', '..', 'conformance', 'package.json'))
const { RealtimeClient } = require('@supabase/realtime-js')
const WebSocket = require('ws')

const [url, vsn, id, n] = process.argv.slice(2)
const want = Number(n)
const nowNs = () => Math.round((performance.timeOrigin + performance.now()) * 1e6)

const client = new RealtimeClient(url.replace(/^http/, 'ws') + '/realtime/v1', {
  transport: WebSocket,
  vsn,
  params: { apikey: 'bench-anon-key', bench_id: id },
})
let count = 0
client
  .channel('room')
  .on('broadcast', { event: 'cursor' }, () => {
    if (++count % want === 0) process.stdout.write(`${nowNs()}\n`)
  })
  .subscribe((status) => {
    if (status === 'SUBSCRIBED') process.stdout.write('ready\n')
  })

process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
