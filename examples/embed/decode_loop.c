/* Generates text the way a language model does, one token at a time, with
 * sliding_window_block's decode step: a prompt is prefilled (through the
 * whole model at once, sliding_window_block_prefill), then each output row
 * is fed back as the next token. The runtime's decoder keeps the KV cache;
 * the loop runs past the context, where the cache's oldest rows are
 * reused.
 *
 * It checks itself: the first `context` outputs of token-by-token decoding
 * must match the full model run on the same tokens.
 *
 *   embed_decode [TOKENS]   (at least the context, 256; default 3 x 256) */

#include "sliding_window_block.h"

#include "attnc/parallel.h"
#include "attnc/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum {
  CONTEXT = SLIDING_WINDOW_BLOCK_CONTEXT,
  WIDTH = SLIDING_WINDOW_BLOCK_X_ELEMENTS / SLIDING_WINDOW_BLOCK_CONTEXT,
  PROMPT = 64 /* a quarter of the context: the prefill runs the whole model */
};

/* Deterministic values in [-scale, scale). */
static void fill(float *data, size_t count, unsigned *state, float scale) {
  for (size_t i = 0; i < count; ++i) {
    *state = *state * 1664525u + 1013904223u;
    data[i] = scale * ((float)(*state >> 8) / 8388608.0f - 1.0f);
  }
}

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  long tokens = argc > 1 ? atol(argv[1]) : 3 * CONTEXT;
  if (tokens < CONTEXT) {
    fprintf(stderr, "embed_decode: TOKENS must be at least %d\n", CONTEXT);
    return 2;
  }
  unsigned state = 42;
  size_t rows = (size_t)tokens * WIDTH;
  float *w_qkv = malloc(sizeof(float) * SLIDING_WINDOW_BLOCK_W_QKV_ELEMENTS);
  float *w_o = malloc(sizeof(float) * SLIDING_WINDOW_BLOCK_W_O_ELEMENTS);
  float *x = malloc(sizeof(float) * rows);    /* the tokens fed */
  float *y = malloc(sizeof(float) * rows);    /* their outputs */
  float *full = malloc(sizeof(float) * SLIDING_WINDOW_BLOCK_Y_ELEMENTS);
  if (!w_qkv || !w_o || !x || !y || !full)
    return 1;
  fill(w_qkv, SLIDING_WINDOW_BLOCK_W_QKV_ELEMENTS, &state, 1.0f / sqrtf(WIDTH));
  fill(w_o, SLIDING_WINDOW_BLOCK_W_O_ELEMENTS, &state, 1.0f / sqrtf(WIDTH));
  fill(x, PROMPT * WIDTH, &state, 1.0f);

  attn_decoder *decoder = NULL;
  if (attn_decoder_create(sliding_window_block_decode_info(),
                          sliding_window_block_decode_argv,
                          &decoder) != ATTN_OK ||
      attn_decoder_set_prefill(decoder, sliding_window_block_prefill_argv) !=
          ATTN_OK) {
    fprintf(stderr, "embed_decode: %s\n", attn_last_error());
    return 1;
  }
  /* Step arguments in the order of the decode info: x, w_qkv, w_o, y. */
  void *args[4] = {x, w_qkv, w_o, y};
  double start = seconds();
  if (attn_decoder_prefill(decoder, args, 4, PROMPT) != ATTN_OK) {
    fprintf(stderr, "embed_decode: %s\n", attn_last_error());
    return 1;
  }
  double prefilled = seconds() - start;
  start = seconds();
  for (long t = PROMPT; t < tokens; ++t) {
    /* The next token is the last output, scaled back to unit RMS (a
     * stand-in for sampling and embedding a token). */
    const float *last = y + (t - 1) * WIDTH;
    double sum = 0;
    for (int i = 0; i < WIDTH; ++i)
      sum += (double)last[i] * last[i];
    float scale = (float)(1.0 / sqrt(sum / WIDTH + 1e-12));
    for (int i = 0; i < WIDTH; ++i)
      x[t * WIDTH + i] = last[i] * scale;
    args[0] = x + t * WIDTH;
    args[3] = y + t * WIDTH;
    if (attn_decoder_step(decoder, args, 4) != ATTN_OK) {
      fprintf(stderr, "embed_decode: %s\n", attn_last_error());
      return 1;
    }
  }
  double elapsed = seconds() - start;
  long stepped = tokens - PROMPT;
  printf("decoded %lld tokens (%d prefilled in %.3f ms, %ld stepped) with "
         "context %d: %.0f tokens/s on %d threads\n",
         (long long)attn_decoder_position(decoder), PROMPT, 1e3 * prefilled,
         stepped, CONTEXT, stepped / elapsed, attn_num_threads());
  attn_decoder_free(decoder);

  /* The full model on the first context of the same tokens. */
  if (sliding_window_block(x, w_qkv, w_o, full) != 0)
    return 1;
  double max_diff = 0, max_value = 0;
  for (int i = 0; i < SLIDING_WINDOW_BLOCK_Y_ELEMENTS; ++i) {
    max_diff = fmax(max_diff, fabs((double)full[i] - y[i]));
    max_value = fmax(max_value, fabs((double)full[i]));
  }
  printf("first %d tokens, decode vs the full model: max difference %.2e "
         "(%.2e relative)\n", CONTEXT, max_diff, max_diff / max_value);
  free(w_qkv), free(w_o), free(x), free(y), free(full);
  if (max_diff > 1e-4 * max_value) {
    fprintf(stderr, "embed_decode: FAIL: decoding differs from the full "
                    "model\n");
    return 1;
  }
  return 0;
}
