/** @module The probe's query: does the database answer at all? */
import { sql, type CompiledQuery } from 'kysely'
import { compiler } from '../prepared.ts'

// Compiled once: probes call this every few seconds, and building a Kysely query costs more than running it.
export const PING: CompiledQuery = sql`SELECT 1 AS ok`.compile(compiler)
