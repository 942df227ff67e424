/* tests/death.h — death tests: run a misuse in a forked child and collect
 * how it died.
 *
 * The child's stdout carries what the case announces (the address the
 * fatal line must name), its stderr the report. Both are read to EOF, stdout
 * first: fine while the child's stderr fits a pipe (64 KiB; an ASan report
 * is a few KiB).
 * Threading: call from a single-threaded point of the test (fork).
 */
#ifndef RC_TESTS_DEATH_H
#define RC_TESTS_DEATH_H

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/check.h"

typedef struct death {
    int status;          /* waitpid status of the child */
    char addr[64];       /* first line of its stdout */
    const char *msg;     /* all of its stderr (static buffer, next run reuses it) */
} death_t;

static inline const char *death_read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return buf;
}

/* Runs FN in a child; a child that returns from FN exits 0 (nothing fired). */
static inline death_t death_run(void (*fn)(void))
{
    static char out_buf[4096], err_buf[65536];
    death_t d;
    int out[2], err[2];
    REQUIRE(pipe(out) == 0 && pipe(err) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        fn();
        fflush(NULL);
        _exit(0);
    }
    close(out[1]);
    close(err[1]);
    const char *out_text = death_read_all(out[0], out_buf, sizeof out_buf);
    size_t first_line = strcspn(out_text, "\n");      /* the first line, cut to fit */
    if (first_line >= sizeof d.addr)
        first_line = sizeof d.addr - 1;
    memcpy(d.addr, out_text, first_line);
    d.addr[first_line] = '\0';
    d.msg = death_read_all(err[0], err_buf, sizeof err_buf);
    REQUIRE(waitpid(pid, &d.status, 0) == pid);
    close(out[0]);
    close(err[0]);
    return d;
}

#endif /* RC_TESTS_DEATH_H */
