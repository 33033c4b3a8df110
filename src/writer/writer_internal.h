/*
 * writer_internal.h — writer entry points for tests and fuzz seeds only.
 */
#ifndef QLITE_WRITER_INTERNAL_H
#define QLITE_WRITER_INTERNAL_H

#include "qlite_writer.h"

/*
 * Like qlite_writer_write_memory, but WITHOUT re-opening the result: the
 * bytes may be a model qlite_model_open rejects. The corrupt-file tests use
 * it to write models that break one semantic rule each.
 */
qlite_status qlite_writer_write_memory_unchecked(qlite_writer *w, void **out, size_t *size);

#endif /* QLITE_WRITER_INTERNAL_H */
