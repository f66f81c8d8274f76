// The few column types that differ between the engines, for migrations
// written once in Kysely's schema builder. On SQLite every helper gives
// exactly what the migration wrote before PostgreSQL existed (a published
// migration never changes what it makes there); on PostgreSQL the native
// type:
//
//   time   ISO 8601 UTC text (fixed width, so text order is time order) |
//          timestamptz, handed back to the stores as the same ISO text by
//          postgres.ts's type parser, so that both engines give the stores
//          one representation and PostgreSQL compares real times.
//   flag   0/1 integer with a CHECK | boolean; the stores write JS booleans
//          (sqlite.ts turns them into 0/1) and read either (stored.ts).
//   size   integer (SQLite's is 64-bit) | bigint: a file may be over 2 GiB.
//   id     the rowid ("integer primary key") | an identity column.
import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

/** The engine a migration runs on, from the Kysely instance (or transaction) it is handed. */
export function engineOf(db: Kysely<unknown>): Engine {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

type Column = (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

export interface ColumnTypes {
  readonly engine: Engine;
  readonly time: 'text' | 'timestamptz';
  readonly flag: 'integer' | 'boolean';
  readonly size: 'integer' | 'bigint';
  /** A flag column's check (SQLite's 0/1), after `rest` (notNull…). */
  flagCheck(name: string, rest?: Column): Column;
  /** The value of a false flag, for defaultTo. */
  readonly no: 0 | boolean;
  /** A key the database numbers on insert: by default (runs, folders: a test may choose one), or always (audit). */
  id(numbering: 'by-default' | 'always'): Column;
}

export function columnTypes(db: Kysely<unknown>): ColumnTypes {
  const engine = engineOf(db);
  const pg = engine === 'postgres';
  return {
    engine,
    time: pg ? 'timestamptz' : 'text',
    flag: pg ? 'boolean' : 'integer',
    size: pg ? 'bigint' : 'integer',
    no: pg ? false : 0,
    flagCheck: (name, rest = (c) => c) => (c) => (pg ? rest(c) : rest(c).check(sql.raw(`${name} = 0 or ${name} = 1`))),
    id: (numbering) => (c) => {
      if (!pg) return numbering === 'always' ? c.primaryKey().autoIncrement() : c.primaryKey();
      return (numbering === 'always' ? c.generatedAlwaysAsIdentity() : c.generatedByDefaultAsIdentity()).primaryKey();
    },
  };
}
