/*
 * threadpool.h — a small fixed pool of worker threads for data-parallel ops.
 *
 * The pool is created with the interpreter (num_threads - 1 workers: the
 * calling thread always takes a share) and used by qlite_parallel_for. With
 * one thread no pool exists and nothing is paid for it.
 */
#ifndef QLITE_THREADPOOL_H
#define QLITE_THREADPOOL_H

#include <stddef.h>

#include "qlite/qlite.h"

typedef struct qlite_threadpool qlite_threadpool;

/* Creates a pool for `threads` total threads (>= 2). */
qlite_status qlite_threadpool_create(int threads, qlite_threadpool **out);
void qlite_threadpool_destroy(qlite_threadpool *pool); /* NULL is a no-op */
int qlite_threadpool_threads(const qlite_threadpool *pool); /* 1 for NULL */

/* Runs fn(arg, begin, end) over [0, count) split into one contiguous range per
 * thread; the caller runs the first range. Returns when all are done. Not
 * reentrant: one parallel_for at a time per pool. */
void qlite_threadpool_run(qlite_threadpool *pool, size_t count,
                          void (*fn)(void *arg, size_t begin, size_t end), void *arg);

#endif /* QLITE_THREADPOOL_H */
