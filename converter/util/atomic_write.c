/*
 * atomic_write.c — temporary file + fsync + rename + directory fsync.
 */
#include "atomic_write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qlite_internal.h"

qlite_status qlc_write_atomic(const char *path, const void *data, size_t size) {
    char tmp[PATH_MAX], dir[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "output path too long");
    int fd = mkstemp(tmp);
    if (fd < 0)
        return qlite_error(QLITE_ERR_IO, "cannot create a temporary file next to '%s': %s", path,
                           strerror(errno));
    const char *p = data;
    size_t left = size;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return qlite_error(QLITE_ERR_IO, "writing '%s' failed: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return qlite_error(QLITE_ERR_IO, "syncing '%s' failed: %s", path, strerror(e));
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return qlite_error(QLITE_ERR_IO, "cannot rename the temporary file to '%s': %s", path,
                           strerror(e));
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return QLITE_OK;
}
