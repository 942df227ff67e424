/* base/list.h — the intrusive doubly linked list, NULL-terminated.
 *
 * A node embeds an rc_dlink_t; a list is an rc_dlist_t holding its first
 * and last links (both NULL when empty). Push at either end and remove
 * from anywhere in O(1), with no allocation; RC_DLIST_ENTRY gets the node
 * back from its link. The arena's page, segment and heap lists and rc's
 * thread registry are such lists. (The cycle detector's generation lists
 * are circular, with a sentinel, so a node unlinks without its list:
 * gc/gc.c keeps those.)
 * Invariants: first->prev == NULL, last->next == NULL, and a node that is
 * on no list has both links NULL (rc_dlist_remove leaves it so).
 * Threading: none; the caller owns the list or holds its lock.
 */
#ifndef RC_BASE_LIST_H
#define RC_BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rc_dlink {
    struct rc_dlink *prev, *next;
} rc_dlink_t;

typedef struct rc_dlist {
    rc_dlink_t *first, *last;
} rc_dlist_t;

/* The node of type TYPE whose rc_dlink_t member MEMBER is at LINK (not NULL). */
#define RC_DLIST_ENTRY(link, type, member) ((type *)(void *)((char *)(link) - offsetof(type, member)))

static inline bool rc_dlist_is_empty(const rc_dlist_t *l) { return l->first == NULL; }

static inline void rc_dlist_push_front(rc_dlist_t *l, rc_dlink_t *n)
{
    n->prev = NULL;
    n->next = l->first;
    if (l->first)
        l->first->prev = n;
    else
        l->last = n;
    l->first = n;
}

static inline void rc_dlist_push_back(rc_dlist_t *l, rc_dlink_t *n)
{
    n->next = NULL;
    n->prev = l->last;
    if (l->last)
        l->last->next = n;
    else
        l->first = n;
    l->last = n;
}

/* Unlinks N, which is on L. */
static inline void rc_dlist_remove(rc_dlist_t *l, rc_dlink_t *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->last = n->prev;
    n->prev = n->next = NULL;
}

#endif /* RC_BASE_LIST_H */
