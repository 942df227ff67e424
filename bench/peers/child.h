/* bench/peers/child.h — a peer's helper process (cpython-gc's python3,
 * the ocaml peer's rcbench-ocaml): spawned without a shell (posix_spawn)
 * on close-on-exec pipes for its stdin and stdout, SIGPIPE ignored (a
 * child that dies makes the next write fail, reported, instead of killing
 * rcbench), optionally with a larger stack limit; moved to the PU the
 * harness pinned the calling thread to on its first run; waited for at
 * teardown, its exit status checked. Failures are one line naming WHO:
 * the OS refusing (rc_fatal_os, exit 3) or the child misbehaving.
 * Threading: one child per context, driven from one thread at a time.
 */
#ifndef RC_BENCH_PEERS_CHILD_H
#define RC_BENCH_PEERS_CHILD_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

typedef struct child {
    const char *who;                     /* "cpython-gc", "ocaml": the messages' prefix */
    char name[64];                       /* the program's file name, in the messages */
    pid_t pid;
    FILE *to, *from;                     /* its stdin, its stdout */
    bool pinned;
} child_t;

/* Runs PATH with ARGV and ENV; STACK_BYTES > 0 raises the child's soft
 * stack limit to it (at most the hard limit) for the spawn only. HINT
 * follows the OS's reason when PATH cannot run (what installs it). */
void child_spawn(child_t *c, const char *who, const char *path, char *const argv[], char *const env[],
                 rlim_t stack_bytes, const char *hint);
/* On the first call: the child moves to the calling thread's PUs. */
void child_follow_pin(child_t *c);
/* Closes its stdin (the child ends) and stdout, waits for it; a status
 * other than exit 0 is fatal (its timings are not to be trusted). */
void child_end(child_t *c);

#endif /* RC_BENCH_PEERS_CHILD_H */
