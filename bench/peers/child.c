/* bench/peers/child.c — a peer's helper process (see bench/peers/child.h).
 * Threading: one child per context, driven from one thread at a time.
 */
#include "bench/peers/child.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rc/rc.h"

void child_spawn(child_t *c, const char *who, const char *path, char *const argv[], char *const env[],
                 rlim_t stack_bytes, const char *hint)
{
    c->who = who;
    const char *base = strrchr(path, '/');
    snprintf(c->name, sizeof c->name, "%s", base ? base + 1 : path);
    c->pinned = false;
    signal(SIGPIPE, SIG_IGN);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        rc_fatal_os("%s: pipe: %s", who, strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    /* The stack limit the child starts with (the kernel lays out its
     * address space by it at exec): raised for the spawn only. This
     * thread's own stack is mapped already, and glibc sized new threads'
     * stacks at startup, so rcbench itself is unchanged. */
    struct rlimit saved, big;
    bool raised = stack_bytes > 0 && getrlimit(RLIMIT_STACK, &saved) == 0 && saved.rlim_cur != RLIM_INFINITY &&
                  saved.rlim_cur < stack_bytes;
    if (raised) {
        big = saved;
        big.rlim_cur = saved.rlim_max == RLIM_INFINITY || saved.rlim_max > stack_bytes ? stack_bytes : saved.rlim_max;
        raised = setrlimit(RLIMIT_STACK, &big) == 0;
    }
    int rc = posix_spawn(&c->pid, path, &fa, NULL, argv, env);
    if (raised)
        (void)setrlimit(RLIMIT_STACK, &saved);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0)
        rc_fatal_os("%s: cannot run %s: %s%s", who, path, strerror(rc), hint ? hint : "");
    c->to = fdopen(in[1], "w");
    c->from = fdopen(out[0], "r");
    if (c->to == NULL || c->from == NULL)
        rc_fatal_os("%s: fdopen: %s", who, strerror(errno));
}

void child_follow_pin(child_t *c)
{
    /* setup ran before the harness pinned this thread */
    if (c->pinned)
        return;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        (void)sched_setaffinity(c->pid, sizeof set, &set);
    c->pinned = true;
}

void child_end(child_t *c)
{
    fclose(c->to);                       /* end of input: the child ends */
    fclose(c->from);
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rc_fatal("%s: %s ended badly (status %#x): its timings are not to be trusted", c->who, c->name, status);
}
