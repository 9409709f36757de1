// Export rows travel in batches: the local store yields rows synchronously, the central database in cursor
// fetches; both become an async iterable of arrays, so one writer loop serves both without a promise per row.

export type RowBatches<Row> = AsyncIterable<readonly Row[]>;

/**
 * Groups a synchronous iterator (a SQLite statement's) into batches. The iterator is opened on the first batch
 * asked for, and closed when the batches end or are abandoned.
 */
export async function* inBatches<Row>(open: () => Iterator<Row>, size = 1_000): AsyncGenerator<Row[], void, undefined> {
  const rows = open();
  try {
    for (;;) {
      const batch: Row[] = [];
      while (batch.length < size) {
        const next = rows.next();
        if (next.done) {
          if (batch.length > 0) yield batch;
          return;
        }
        batch.push(next.value);
      }
      yield batch;
    }
  } finally {
    // An abandoned statement iterator would keep the statement busy.
    rows.return?.();
  }
}
