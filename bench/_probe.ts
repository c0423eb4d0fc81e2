import { readFileSync } from 'node:fs'
import { HOST } from './apps.ts'
import { firstLine, startChild, stopChild } from './children.ts'
import { mailLoad } from './mail-load.ts'
import { marketingMail } from './mail-message.ts'
import { seededEmail, SEEDED_CONTACTS } from './seeded-app.ts'

const cpu = (pid: number | 'self') => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
const { message } = await marketingMail()
const app = process.argv[2]!
const conns = Number(process.argv[3] ?? 16)
const dur = Number(process.argv[4] ?? 5)
const sink = startChild('./mail-server.ts', ['smtp-sink'])
const { port: sp } = JSON.parse(await firstLine(sink))
const server = startChild('./mail-server.ts', [app, `smtp://${HOST}:${sp}`])
const info = JSON.parse(await firstLine(server))
const c0 = [cpu(sink.pid!), cpu(server.pid!), cpu('self')]
const t0 = performance.now()
const r = await mailLoad({ port: info.port, auth: info.auth, connections: conns, warmupS: 1, durationS: dur, next: (n) => message(n, seededEmail(n % SEEDED_CONTACTS)) })
const wall = (performance.now() - t0) / 1000
const c1 = [cpu(sink.pid!), cpu(server.pid!), cpu('self')]
console.log(app, conns, 'rate', r.rate.toFixed(1), 'p50', r.hist.percentileMs(50).toFixed(1), 'refused', r.refused, r.unexpected, r.firstProblem ?? '')
console.log(`wall ${wall.toFixed(1)}s cpu-s: sink ${(c1[0]!-c0[0]!).toFixed(2)} server ${(c1[1]!-c0[1]!).toFixed(2)} generator ${(c1[2]!-c0[2]!).toFixed(2)}`)
await stopChild(server); await stopChild(sink)
