/* tests/unit/test_debug.c — debug-build misuse detectors fire (P4, S6).
 *
 * Each case runs in a forked child that commits one misuse; the parent
 * checks the child died of SIGABRT and that its stderr holds exactly one
 * "rcbench: fatal:" line naming the object's address (the child prints it
 * first on stdout) and its type. Built only with RCBENCH_DEBUG_CHECKS.
 * An object is freed when its count reaches zero, which under deferred
 * counting is at the next safepoint, so each case passes one between the
 * last legitimate decref and the misuse (a no-op for the other
 * strategies), and one after it: deferred sees an underflow when it
 * applies the decrement.
 * Threading: single-threaded parent and children.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rc/rc.h"
#include "tests/check.h"
#include "tests/death.h"

typedef void (*misuse_fn)(void);

static void print_addr(const rc_obj_t *o)
{
    printf("%p\n", (const void *)o);
    fflush(stdout);
}

static void double_decref(void)
{
    rc_obj_t *o = rc_int_new(4242);
    print_addr(o);
    rc_decref(o);
    rc_safepoint();
    rc_decref(o);               /* freed already */
    rc_safepoint();
}

static void incref_after_free(void)
{
    rc_obj_t *o = rc_list_new();
    print_addr(o);
    rc_decref(o);
    rc_safepoint();
    rc_incref(o);
    rc_safepoint();
}

static void decref_below_zero(void)
{
    rc_obj_t *o = rc_tuple_new(2);
    print_addr(o);
    rc_debug_set_refcnt(o, 0);  /* a corrupted count: live object at zero */
    rc_decref(o);
    rc_safepoint();
}

static void child_decref_of_container_freed_by_parent(void)
{
    /* The list frees its element; decref through a stale borrowed pointer. */
    rc_obj_t *l = rc_list_new(), *x = rc_node_new(1, 0);
    rc_list_append(l, x);
    rc_decref(x);
    print_addr(x);
    rc_decref(l);
    rc_safepoint();
    rc_decref(x);
    rc_safepoint();
}

static void expect_death(const char *name, misuse_fn fn, const char *type, const char *what)
{
    death_t d = death_run(fn);
    const char *msg = d.msg, *addr = d.addr;
    int status = d.status;
    bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    char want_type[64];
    snprintf(want_type, sizeof want_type, "(%s)", type);
    int lines = 0;
    for (const char *p = msg; (p = strstr(p, "rcbench: fatal:")); p++)
        lines++;
    CHECK(aborted);
    CHECK(addr[0] != '\0' && strstr(msg, addr) != NULL);
    CHECK(strstr(msg, want_type) != NULL);
    CHECK(strstr(msg, what) != NULL);
    CHECK_EQ(lines, 1);
    printf("%-40s %s: %s", name, aborted ? "aborted" : "DID NOT ABORT", msg[0] ? msg : "(no message)\n");
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    REQUIRE(rc_cfg_debug);
    expect_death("double decref", double_decref, "int", "decref of a freed object");
    expect_death("incref after free", incref_after_free, "list", "incref of a freed object");
    expect_death("decref below zero", decref_below_zero, "tuple", "decref below zero");
    expect_death("stale pointer into a dropped container", child_decref_of_container_freed_by_parent,
                 "node", "decref of a freed object");
    return TEST_END();
}
