/* A program outside the tree: built only with `pkg-config --cflags --libs qlite`
 * against an installed qlite (tests/install.cmake). */
#include <stdio.h>
#include <string.h>

#include <qlite/qlite.h>

int main(void) {
    qlite_model *m = NULL;
    qlite_status st = qlite_model_open("/nonexistent/model.qlite", 0, &m);
    if (st != QLITE_ERR_IO || m != NULL || strstr(qlite_last_error(), "nonexistent") == NULL) {
        fprintf(stderr, "unexpected: %s %s\n", qlite_status_string(st), qlite_last_error());
        return 1;
    }
    if (strcmp(qlite_version(), QLITE_VERSION_STRING) != 0) return 1;
    printf("qlite %s linked via pkg-config: %s\n", qlite_version(), qlite_status_string(st));
    return 0;
}
