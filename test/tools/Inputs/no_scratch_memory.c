/* Runs Inputs/tiny.attn's kernel with a scratch allocator that has no
 * memory: the kernel must stop with a message, not write through the null
 * pointer it was given. */
#include "tiny.h"

#include <stddef.h>
#include <stdio.h>

void *attnc_scratch_alloc(size_t bytes) {
  (void)bytes;
  return NULL;
}
void attnc_scratch_free(void *block) { (void)block; }

int main(void) {
  static float x[TINY_X_ELEMENTS], w[TINY_W_ELEMENTS], y[TINY_Y_ELEMENTS];
  int rc = tiny(x, w, y);
  printf("tiny returned %d\n", rc);
  return 0;
}
