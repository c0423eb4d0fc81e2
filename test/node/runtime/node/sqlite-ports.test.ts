// The read ports build row objects in JS from raw arrays (faster than better-sqlite3's own): the
// objects must be exactly the ones better-sqlite3 would have made, whatever the query.
import { CompiledQuery } from 'kysely'
import { describe, expect, it } from 'vitest'
import {
  cachingDatabase,
  openSqlite,
  sqliteQuery,
  sqliteQueryOne,
} from '../../../../src/runtime/node/sqlite.ts'

function ports() {
  const db = openSqlite(':memory:')
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, score REAL, flag INTEGER);
    INSERT INTO t VALUES (1, 'a', x'00ff', 1.5, 1), (2, NULL, NULL, NULL, 0), (3, 'c', x'', -2, NULL);`)
  const cached = cachingDatabase(db)
  return { db, query: sqliteQuery(cached), queryOne: sqliteQueryOne(cached) }
}

const q = (sql: string, ...parameters: unknown[]) => CompiledQuery.raw(sql, parameters)

describe('the read ports on Node', () => {
  it.each([
    ['SELECT * FROM t ORDER BY id'],
    ['SELECT id, name AS id FROM t ORDER BY id'], // a duplicate name: the last column wins
    ['SELECT 1 AS "2", 3 AS "1", name FROM t ORDER BY id'], // integer-like names order first
    ['SELECT count(*), max(score) FROM t'],
    ['SELECT * FROM t WHERE id > 99'],
    ["SELECT name, json_object('k', id) AS j FROM t ORDER BY id DESC"],
  ])('return the rows better-sqlite3 returns: %s', (sql) => {
    const { db, query, queryOne } = ports()
    const own = db.prepare(sql).all()
    expect(query(q(sql))).toEqual(own)
    expect(queryOne(q(sql))).toEqual(own[0])
    for (const row of query<object>(q(sql)))
      expect(Object.keys(row)).toEqual(Object.keys(own[0] as object))
  })

  it('bind parameters, booleans as 0/1', () => {
    const { query, queryOne } = ports()
    expect(query(q('SELECT id FROM t WHERE flag = ? OR id = ?', true, 3))).toEqual([
      { id: 1 },
      { id: 3 },
    ])
    expect(queryOne(q('SELECT id FROM t WHERE flag = ?', false))).toEqual({ id: 2 })
    expect(queryOne(q('SELECT id FROM t WHERE id = ?', 42))).toBeUndefined()
  })

  it('follow a schema change under a cached SELECT *', () => {
    const { db, query } = ports()
    expect(Object.keys(query<object>(q('SELECT * FROM t WHERE id = 1'))[0]!)).toHaveLength(5)
    db.exec("ALTER TABLE t ADD COLUMN extra TEXT DEFAULT 'x'")
    expect(query(q('SELECT * FROM t WHERE id = 1'))).toEqual(
      db.prepare('SELECT * FROM t WHERE id = 1').all(),
    )
  })

  it('leave a column named __proto__ to better-sqlite3 (an own property, not the prototype)', () => {
    const { db, queryOne } = ports()
    const sql = 'SELECT 1 AS "__proto__", 2 AS b'
    expect(queryOne(q(sql))).toEqual(db.prepare(sql).get())
    expect(Object.getPrototypeOf(queryOne(q(sql)))).toBe(Object.prototype)
  })

  it('still run a statement that returns no data, as better-sqlite3 does', () => {
    const { db, query } = ports()
    expect(() => query(q("INSERT INTO t (id, name) VALUES (9, 'z')"))).toThrow(
      /does not return data/,
    )
    expect(() => db.prepare("INSERT INTO t (id, name) VALUES (9, 'z')").all()).toThrow(
      /does not return data/,
    )
  })
})
