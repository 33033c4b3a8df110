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

/* Runs fn(arg, begin, end) over [0, count) split into contiguous ranges:
 * one item each when count <= 4 * threads, else 4 * threads non-empty
 * ranges: 4 over the first count / threads items, the rest over the
 * others, each group shrinking towards the boundary between them when it
 * has enough items (threadpool.c). Ranges are claimed by whichever thread
 * is free, the caller from the front and the workers from the back (the
 * caller starts at once and may run them all if the workers are late), so
 * a range index is a slot, never a thread id; with 2 threads the caller
 * usually runs the first part of every op, the worker the second.
 * Returns when all are done. With
 * a NULL pool or count 1: a plain call fn(arg, 0, count), no atomics. Not
 * reentrant: one parallel_for at a time per pool. */
void qlite_threadpool_run(qlite_threadpool *pool, size_t count,
                          void (*fn)(void *arg, size_t begin, size_t end), void *arg);

/* The same, with the index of the thread running each range:
 * fn(arg, thread, begin, end), thread in [0, threads) (0 = the caller). Two
 * ranges with the same thread index never run at the same time, so the
 * index can pick per-thread scratch. Ranges and claiming as above; with a
 * NULL pool or count 1: fn(arg, 0, 0, count). */
void qlite_threadpool_run_thread(qlite_threadpool *pool, size_t count,
                                 void (*fn)(void *arg, int thread, size_t begin, size_t end),
                                 void *arg);

#endif /* QLITE_THREADPOOL_H */
