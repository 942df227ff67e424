/* tests/asm/fastpath.c — the refcount fast paths as standalone functions,
 * compiled per strategy exactly as any caller would inline them, for
 * tests/asm/check_fastpath.sh to disassemble.
 * Threading: not run; only disassembled.
 */
#include "rc/rc.h"

void asm_incref(rc_obj_t *o);
void asm_decref(rc_obj_t *o);

void asm_incref(rc_obj_t *o) { rc_incref(o); }
void asm_decref(rc_obj_t *o) { rc_decref(o); }
