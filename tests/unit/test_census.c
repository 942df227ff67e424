/* tests/unit/test_census.c — the census flavour's records on hand-built
 * objects with known histories (rc/strategy/census.h, docs/census.md).
 *
 * Each case reads the census, does a known sequence of operations, and
 * checks the difference: ops by the owner, by others and on immortals;
 * an object's largest count and the bits it needed; private versus
 * shared objects; small ints' references; and that a thread's record is
 * folded into the totals when it exits. Every object dies inside its case,
 * so the dead objects' ops equal the ops counted per thread.
 * Threading: main thread, plus one helper thread per cross-thread case
 * (main detaches around the join).
 */
#include <pthread.h>

#include "rc/rc.h"
#include "tests/check.h"

static rc_census_t since(const rc_census_t *before)
{
    rc_census_t now;
    rc_census_read(&now);
    rc_census_since(&now, before);
    return now;
}

static uint64_t refs_of(const rc_census_t *c, int64_t value) { return c->small_int_refs[value - RC_SMALL_INT_MIN]; }

static void all_dead_ops_balance(const rc_census_t *d)
{
    CHECK_EQ(d->object_ops, d->owner_ops + d->other_ops);
}

/* An object incref'd 3 times reaches count 4: 3 bits; 7 ops, all its maker's. */
static void three_increfs_need_three_bits(void)
{
    rc_census_t before;
    rc_census_read(&before);
    rc_obj_t *o = rc_node_new(1, 0);
    for (int i = 0; i < 3; i++)
        rc_incref(o);
    for (int i = 0; i < 4; i++)
        rc_decref(o);
    rc_census_t d = since(&before);
    CHECK_EQ(d.objects, 1);
    CHECK_EQ(d.private_objects, 1);
    CHECK_EQ(d.owner_ops, 7);
    CHECK_EQ(d.other_ops, 0);
    CHECK_EQ(d.immortal_ops, 0);
    CHECK_EQ(d.object_ops, 7);
    CHECK_EQ(d.private_ops, 7);
    CHECK_EQ(d.max_bits[2], 1);          /* max count 4: 3 bits */
    CHECK_EQ(d.max_bits[1] + d.max_bits[3], 0);
    CHECK_EQ(d.ops_log2[3], 1);          /* 7 ops: bucket 4..7 */
    all_dead_ops_balance(&d);
}

/* An object never counted after birth: count 1, 1 bit, 0 ops (but the
 * decref that kills it, which is one op). */
static void a_fresh_object_needs_one_bit(void)
{
    rc_census_t before;
    rc_census_read(&before);
    rc_decref(rc_int_new(1000));
    rc_census_t d = since(&before);
    CHECK_EQ(d.objects, 1);
    CHECK_EQ(d.max_bits[0], 1);
    CHECK_EQ(d.ops_log2[1], 1);          /* 1 op */
    CHECK_EQ(d.owner_ops, 1);
    all_dead_ops_balance(&d);
}

static void *incref_once(void *arg)
{
    rc_thread_attach();
    rc_incref(arg);
    rc_thread_detach();
    return NULL;
}

static rc_obj_t *made;
static void *make_one(void *arg)
{
    (void)arg;
    rc_thread_attach();
    made = rc_tuple_new(1);
    rc_tuple_set(made, 0, rc_int_new(100000));
    rc_thread_detach();
    return NULL;
}

static void on_helper(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    rc_thread_detach();
    REQUIRE(pthread_create(&t, NULL, fn, arg) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    rc_thread_attach();
}

/* One op by another thread makes the object shared; the helper's record
 * is folded into the totals when it exits (read after the join). */
static void another_threads_op_shares(void)
{
    rc_census_t before;
    rc_census_read(&before);
    rc_obj_t *o = rc_node_new(2, 0);
    on_helper(incref_once, o);
    rc_decref(o);
    rc_decref(o);
    rc_census_t d = since(&before);
    CHECK_EQ(d.objects, 1);
    CHECK_EQ(d.private_objects, 0);
    CHECK_EQ(d.other_ops, 1);
    CHECK_EQ(d.owner_ops, 2);
    CHECK_EQ(d.private_ops, 0);
    CHECK_EQ(d.max_bits[1], 1);          /* count 2: 2 bits */
    all_dead_ops_balance(&d);
}

/* Objects made by a thread that has exited and dropped here: every op is
 * another thread's, the tuple's child's drop included. */
static void objects_of_an_exited_thread(void)
{
    rc_census_t before;
    rc_census_read(&before);
    on_helper(make_one, NULL);
    rc_decref(made);                     /* the tuple, then its int child */
    rc_census_t d = since(&before);
    CHECK_EQ(d.objects, 2);
    CHECK_EQ(d.private_objects, 0);
    CHECK_EQ(d.other_ops, 2);
    CHECK_EQ(d.owner_ops, 0);
    all_dead_ops_balance(&d);
}

/* Immortals: ops counted, never written; a small int's references are its
 * increfs and rc_int_new handing it out; a decref is no reference. */
static void small_ints_count_references(void)
{
    rc_census_t before;
    rc_census_read(&before);
    rc_obj_t *five = rc_int_new(5);      /* a reference: 1 */
    unsigned char header[sizeof(rc_int_t)];
    memcpy(header, five, sizeof header);
    rc_incref(five);                     /* 2 */
    rc_incref(five);                     /* 3 */
    rc_decref(five);
    rc_decref(five);
    rc_decref(five);
    rc_obj_t *neg = rc_int_new(RC_SMALL_INT_MIN);
    rc_decref(neg);
    CHECK(memcmp(header, five, sizeof header) == 0);
    rc_census_t d = since(&before);
    CHECK_EQ(d.immortal_ops, 6);
    CHECK_EQ(d.owner_ops + d.other_ops, 0);
    CHECK_EQ(d.objects, 0);
    CHECK_EQ(refs_of(&d, 5), 3);
    CHECK_EQ(refs_of(&d, RC_SMALL_INT_MIN), 1);
    CHECK_EQ(refs_of(&d, 6), 0);
    uint64_t total = 0;
    for (int i = 0; i < RC_CENSUS_SMALL_INTS; i++)
        total += d.small_int_refs[i];
    CHECK_EQ(total, 4);
}

/* A list of n ints: each int 2 ops (append's incref, the list's drop) plus
 * the caller's own decref; counts reach 2. */
static void a_list_and_its_items(void)
{
    enum { N = 100 };
    rc_census_t before;
    rc_census_read(&before);
    rc_obj_t *l = rc_list_new();
    for (int i = 0; i < N; i++) {
        rc_obj_t *x = rc_int_new(1000 + i);
        CHECK(rc_list_append(l, x));
        rc_decref(x);
    }
    rc_decref(l);
    rc_census_t d = since(&before);
    CHECK_EQ(d.objects, N + 1);
    CHECK_EQ(d.private_objects, N + 1);
    CHECK_EQ(d.max_bits[1], N);          /* the ints: count 2 */
    CHECK_EQ(d.max_bits[0], 1);          /* the list: count 1 */
    CHECK_EQ(d.owner_ops, 3 * N + 1);
    CHECK_EQ(d.ops_log2[2], N);          /* each int: 3 ops (bucket 2..3) */
    CHECK_EQ(d.ops_log2[1], 1);          /* the list: its one decref */
    all_dead_ops_balance(&d);
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    rc_thread_attach();
    three_increfs_need_three_bits();
    a_fresh_object_needs_one_bit();
    another_threads_op_shares();
    objects_of_an_exited_thread();
    small_ints_count_references();
    a_list_and_its_items();
    rc_thread_detach();
    return TEST_END();
}
