/** Starts the dashboard app once (making the small database when it is not kept yet) and reads a page. */
import { dashboardApp } from '../apps/dashboard-app.ts'

const t0 = Date.now()
const app = await dashboardApp(process.argv[2])
console.log('started in', Date.now() - t0, 'ms on port', app.port)
const res = await fetch(`http://127.0.0.1:${app.port}/admin?lang=en`, { headers: app.headers })
const text = await res.text()
console.log(res.status, text.length, 'bytes,', (text.match(/<tr>/g) ?? []).length, 'table rows')
await app.close()
