// Calibration for B1 (test/bench/calibrate.go): the least a Node
// application does to count broadcasts with realtime-js. No request
// protocol, no timers, no checks: create a RealtimeClient with the `ws`
// transport, bind on('broadcast', {event}), count callbacks.
//
// Usage: node minimal.mjs URL VSN ID N
// Prints "ready" once the channel is SUBSCRIBED, then at every N-th
// callback the wall-clock Unix nanoseconds and the CPU nanoseconds the
// process used since the previous line; exits when stdin closes.

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
let cpu0 = process.cpuUsage()
client
  .channel('room')
  .on('broadcast', { event: 'cursor' }, () => {
    if (++count % want === 0) {
      const end = nowNs()
      const cpu = process.cpuUsage(cpu0)
      cpu0 = process.cpuUsage()
      process.stdout.write(`${end} ${(cpu.user + cpu.system) * 1000}\n`)
    }
  })
  .subscribe((status) => {
    if (status === 'SUBSCRIBED') {
      cpu0 = process.cpuUsage()
      process.stdout.write('ready\n')
    }
  })

process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
