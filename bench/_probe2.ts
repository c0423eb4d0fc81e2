import { HOST } from './apps.ts'
import { firstLine, startChild, stopChild } from './children.ts'
import { mailLoad } from './mail-load.ts'
import { marketingMail } from './mail-message.ts'
const { message } = await marketingMail()
const conns = Number(process.argv[2] ?? 16)
const sink = startChild('./mail-server.ts', ['smtp-sink'])
const { port } = JSON.parse(await firstLine(sink))
const r = await mailLoad({ port, auth: { user: 'a', pass: 'b' }, connections: conns, warmupS: 1, durationS: 3, next: (n) => message(n, 'x@example.test') })
console.log('direct to sink', conns, r.rate.toFixed(1), 'p50', r.hist.percentileMs(50).toFixed(2), r.refused, r.firstProblem)
await stopChild(sink)
