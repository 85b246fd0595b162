/*===- safetensors.c - a careful reader of .safetensors files -------------===*\
 *
 * Format (https://github.com/huggingface/safetensors): u64 little-endian N,
 * N bytes of a UTF-8 JSON object { "NAME": { "dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end] }, ..., "__metadata__": { "k": "v" } }, then
 * the data; offsets are relative to the end of the header. The JSON reader
 * below understands exactly what such a header can hold (objects, arrays,
 * strings with escapes, integers; other numbers and literals are skipped),
 * with a depth limit, and never reads past the buffer.
 *
\*===----------------------------------------------------------------------===*/

#include "attnc/weights.h"
#include "checks.h"
#include "error.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { kMaxDepth = 64, kMaxRank = 16, kMaxName = 512 };

/* --- JSON ---------------------------------------------------------------- */

typedef struct reader {
  const char *p, *end;
  const char *error; /* first syntax error, or NULL */
} reader;

static void skipSpace(reader *r) {
  while (r->p < r->end &&
         (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    ++r->p;
}

static int expect(reader *r, char c) {
  skipSpace(r);
  if (r->p < r->end && *r->p == c) {
    ++r->p;
    return 1;
  }
  if (!r->error)
    r->error = c == '}' ? "expected ',' or '}'" : c == ']' ? "expected ',' or ']'"
               : c == ':' ? "expected ':'" : "unexpected character";
  return 0;
}

static int peekIs(reader *r, char c) {
  skipSpace(r);
  return r->p < r->end && *r->p == c;
}

/* Reads a string into out (NUL-terminated, at most cap-1 bytes; longer
 * strings are an error), or with out NULL only checks and skips it, of any
 * length; *length, when given, gets its length in bytes. */
static int scanString(reader *r, char *out, size_t cap, size_t *length) {
  if (!expect(r, '"'))
    return 0;
  size_t n = 0;
  while (r->p < r->end && *r->p != '"') {
    unsigned char c = (unsigned char)*r->p++;
    if (c < 0x20) {
      r->error = "control character in a string";
      return 0;
    }
    if (c == '\\') {
      if (r->p >= r->end)
        break;
      char e = *r->p++;
      switch (e) {
      case '"': case '\\': case '/': c = (unsigned char)e; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      case 'u': {
        if (r->end - r->p < 4) {
          r->error = "truncated \\u escape";
          return 0;
        }
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
          char h = *r->p++;
          v <<= 4;
          if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
          else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
          else {
            r->error = "bad \\u escape";
            return 0;
          }
        }
        /* Names only need to compare equal: keep the code unit as UTF-8
         * (surrogate pairs stay two units, which is consistent). */
        unsigned char buf[3];
        size_t len;
        if (v < 0x80) { buf[0] = (unsigned char)v; len = 1; }
        else if (v < 0x800) {
          buf[0] = (unsigned char)(0xc0 | (v >> 6));
          buf[1] = (unsigned char)(0x80 | (v & 0x3f));
          len = 2;
        } else {
          buf[0] = (unsigned char)(0xe0 | (v >> 12));
          buf[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
          buf[2] = (unsigned char)(0x80 | (v & 0x3f));
          len = 3;
        }
        if (out && n + len >= cap) {
          r->error = "string too long";
          return 0;
        }
        if (out)
          memcpy(out + n, buf, len);
        n += len;
        continue;
      }
      default:
        r->error = "bad escape in a string";
        return 0;
      }
    }
    if (out && n + 1 >= cap) {
      r->error = "string too long";
      return 0;
    }
    if (out)
      out[n] = (char)c;
    ++n;
  }
  if (r->p >= r->end) {
    r->error = "unterminated string";
    return 0;
  }
  ++r->p; /* closing quote */
  if (out)
    out[n] = '\0';
  if (length)
    *length = n;
  return 1;
}

static int readString(reader *r, char *out, size_t cap) {
  return scanString(r, out, cap, NULL);
}

/* A string of any length, in memory from malloc; NULL after an error. */
static char *readWholeString(reader *r) {
  const char *start = r->p;
  size_t length;
  if (!scanString(r, NULL, 0, &length))
    return NULL;
  char *out = malloc(length + 1);
  if (!out) {
    r->error = "out of memory";
    return NULL;
  }
  r->p = start;
  scanString(r, out, length + 1, NULL);
  return out;
}

/* A non-negative integer that fits in int64. */
static int readInteger(reader *r, int64_t *out) {
  skipSpace(r);
  if (r->p >= r->end || *r->p < '0' || *r->p > '9') {
    r->error = "expected a non-negative integer";
    return 0;
  }
  int64_t v = 0;
  while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
    int d = *r->p++ - '0';
    if (v > (INT64_MAX - d) / 10) {
      r->error = "integer too large";
      return 0;
    }
    v = v * 10 + d;
  }
  if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E')) {
    r->error = "expected an integer";
    return 0;
  }
  *out = v;
  return 1;
}

static int skipValue(reader *r, int depth);

static int skipContainer(reader *r, int depth, char open, char close) {
  if (depth > kMaxDepth) {
    r->error = "nested too deeply";
    return 0;
  }
  if (!expect(r, open))
    return 0;
  if (peekIs(r, close))
    return expect(r, close);
  for (;;) {
    if (open == '{' && (!readString(r, NULL, 0) || !expect(r, ':')))
      return 0;
    if (!skipValue(r, depth + 1))
      return 0;
    if (peekIs(r, ','))
      ++r->p;
    else
      return expect(r, close);
  }
}

static int skipValue(reader *r, int depth) {
  skipSpace(r);
  if (r->p >= r->end) {
    r->error = "unexpected end of the header";
    return 0;
  }
  char c = *r->p;
  if (c == '{')
    return skipContainer(r, depth, '{', '}');
  if (c == '[')
    return skipContainer(r, depth, '[', ']');
  if (c == '"')
    return readString(r, NULL, 0);
  /* numbers and literals: the characters they can contain */
  const char *start = r->p;
  while (r->p < r->end && strchr("+-.0123456789eEtruefalsn", *r->p))
    ++r->p;
  if (r->p == start) {
    r->error = "unexpected character";
    return 0;
  }
  return 1;
}

/* --- tensors --------------------------------------------------------------- */

typedef struct entry {
  char name[kMaxName];
  char dtype[16];
  int32_t rank;
  int64_t shape[kMaxRank];
  int64_t begin, end;
  int hasDtype, hasShape, hasOffsets;
  int dataChecked; /* offsets inside the data, matching dtype and shape */
} entry;

static int readShape(reader *r, entry *e) {
  if (!expect(r, '['))
    return 0;
  e->rank = 0;
  if (peekIs(r, ']'))
    return expect(r, ']');
  for (;;) {
    if (e->rank == kMaxRank) {
      r->error = "shape has too many dimensions";
      return 0;
    }
    if (!readInteger(r, &e->shape[e->rank++]))
      return 0;
    if (peekIs(r, ','))
      ++r->p;
    else
      return expect(r, ']');
  }
}

static int readEntry(reader *r, entry *e) {
  if (!expect(r, '{'))
    return 0;
  if (peekIs(r, '}'))
    return expect(r, '}');
  for (;;) {
    char key[64];
    if (!readString(r, key, sizeof key) || !expect(r, ':'))
      return 0;
    if (strcmp(key, "dtype") == 0) {
      if (!readString(r, e->dtype, sizeof e->dtype))
        return 0;
      e->hasDtype = 1;
    } else if (strcmp(key, "shape") == 0) {
      if (!readShape(r, e))
        return 0;
      e->hasShape = 1;
    } else if (strcmp(key, "data_offsets") == 0) {
      if (!expect(r, '[') || !readInteger(r, &e->begin) || !expect(r, ',') ||
          !readInteger(r, &e->end) || !expect(r, ']'))
        return 0;
      e->hasOffsets = 1;
    } else if (!skipValue(r, 2)) {
      return 0;
    }
    if (peekIs(r, ','))
      ++r->p;
    else
      return expect(r, '}');
  }
}

static int64_t dtypeSize(const char *dtype) {
  static const struct { const char *name; int64_t size; } sizes[] = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
      {"U16", 2}, {"U32", 4}, {"U64", 8}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i)
    if (strcmp(dtype, sizes[i].name) == 0)
      return sizes[i].size;
  return 0;
}

/* --- loading ---------------------------------------------------------------- */

/* Per argument of the model, the param's floats, name and element count
 * (NULL, NULL, 0 for inputs and outputs). The names are copies: the model's
 * metadata lives in its library, which may be closed before the weights
 * are freed. */
struct attn_weights {
  int32_t numArgs;
  float **data;
  char **names;
  int64_t *counts;
};

void attn_weights_free(attn_weights *w) {
  if (!w)
    return;
  for (int32_t i = 0; i < w->numArgs; ++i) {
    if (w->data)
      free(w->data[i]);
    if (w->names)
      free(w->names[i]);
  }
  free(w->data);
  free(w->names);
  free(w->counts);
  free(w);
}

static int sameShape(const entry *e, const attn_arg_info *arg) {
  if (e->rank != arg->rank)
    return 0;
  for (int32_t d = 0; d < arg->rank; ++d)
    if (e->shape[d] != arg->shape[d])
      return 0;
  return 1;
}

static void formatShape(char *out, size_t cap, int32_t rank,
                        const int64_t *shape) {
  size_t n = (size_t)snprintf(out, cap, "[");
  for (int32_t d = 0; d < rank && n < cap; ++d)
    n += (size_t)snprintf(out + n, cap - n, d ? ", %lld" : "%lld",
                          (long long)shape[d]);
  if (n < cap)
    snprintf(out + n, cap - n, "]");
}

attn_status attn_weights_parse(const void *bytes, size_t size,
                               const attn_kernel_info *info,
                               attn_weights **out) {
  if (!out)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "attn_weights_parse: out is null");
  *out = NULL;
  if (!bytes || !info)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_weights_parse: data and info must not be null");
  attn_status status = attn_check_kernel_info("attn_weights_parse: the model", info);
  if (status != ATTN_OK)
    return status;
  const unsigned char *file = bytes;
  if (size < 8)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "safetensors: %zu bytes is too short for the 8-byte header length",
                     size);
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = (headerLength << 8) | file[i];
  if (headerLength > size - 8)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "safetensors: the header length %llu runs past the end of "
                     "the file (%zu bytes after the length)",
                     (unsigned long long)headerLength, size - 8);
  const unsigned char *dataStart = file + 8 + headerLength;
  uint64_t dataSize = size - 8 - headerLength;

  attn_weights *w = calloc(1, sizeof *w);
  entry *found = calloc((size_t)(info->num_args > 0 ? info->num_args : 1),
                        sizeof *found);
  int *seen = calloc((size_t)(info->num_args > 0 ? info->num_args : 1),
                     sizeof *seen);
  if (!w || !found || !seen) {
    free(w), free(found), free(seen);
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "safetensors: out of memory");
  }
  w->numArgs = info->num_args;

  reader r = {(const char *)file + 8, (const char *)dataStart, NULL};
  int ok = expect(&r, '{');
  int problems = 0;
  attn_clear_error();
  /* [begin, end) of every tensor, to find overlaps */
  size_t numRanges = 0, capRanges = 16;
  int64_t(*ranges)[2] = malloc(capRanges * sizeof *ranges);
  ok = ok && ranges;
  /* every tensor's name, of any length, to find one named twice */
  size_t numNames = 0, capNames = 16;
  char **names = malloc(capNames * sizeof *names);
  ok = ok && names;
  if (ok && peekIs(&r, '}'))
    ok = expect(&r, '}');
  else
    while (ok) {
      entry e;
      memset(&e, 0, sizeof e);
      char *name = readWholeString(&r);
      if (!name || !expect(&r, ':')) {
        free(name);
        ok = 0;
        break;
      }
      /* e.name is for messages and for matching params; a longer name
       * than it holds (metadata strings and names are unbounded in the
       * format) is no param's. */
      int nameFits = strlen(name) < sizeof e.name;
      snprintf(e.name, sizeof e.name, "%s", name);
      int isMetadata = strcmp(name, "__metadata__") == 0;
      if (isMetadata) {
        free(name);
        ok = skipValue(&r, 1);
      } else {
        for (size_t k = 0; k < numNames; ++k)
          if (strcmp(names[k], name) == 0) {
            attn_append_error("tensor '%s' appears twice\n", e.name);
            ++problems;
            break;
          }
        if (numNames == capNames) {
          capNames *= 2;
          void *grown = realloc(names, capNames * sizeof *names);
          if (!grown) {
            free(name);
            ok = 0;
            break;
          }
          names = grown;
        }
        names[numNames++] = name;
      }
      if (ok && !isMetadata && (ok = readEntry(&r, &e))) {
        if (!e.hasDtype || !e.hasShape || !e.hasOffsets) {
          attn_append_error("tensor '%s' lacks %s\n", e.name,
                            !e.hasDtype ? "a dtype"
                            : !e.hasShape ? "a shape" : "data_offsets");
          ++problems;
        } else {
          int64_t elementSize = dtypeSize(e.dtype);
          int64_t elements = 1;
          int overflow = 0;
          for (int32_t d = 0; d < e.rank; ++d) {
            if (e.shape[d] != 0 && elements > INT64_MAX / e.shape[d])
              overflow = 1;
            else
              elements *= e.shape[d];
          }
          if (elementSize == 0) {
            attn_append_error("tensor '%s' has unknown dtype '%s'\n", e.name, e.dtype);
            ++problems;
          } else if (e.begin > e.end || (uint64_t)e.end > dataSize) {
            attn_append_error("tensor '%s': data_offsets [%lld, %lld] lie outside "
                              "the %llu data bytes\n", e.name, (long long)e.begin,
                              (long long)e.end, (unsigned long long)dataSize);
            ++problems;
          } else if (overflow || elements > INT64_MAX / elementSize ||
                     e.end - e.begin != elements * elementSize) {
            attn_append_error("tensor '%s': %lld data bytes do not hold its shape "
                              "of %s elements\n", e.name,
                              (long long)(e.end - e.begin),
                              overflow ? "too many" : "that many");
            ++problems;
          } else {
            /* Its offsets lie inside the data and hold its shape: only such
             * an entry's bytes are ever read. */
            e.dataChecked = 1;
            for (size_t k = 0; k < numRanges; ++k)
              if (e.begin < ranges[k][1] && ranges[k][0] < e.end) {
                attn_append_error("tensor '%s' overlaps another tensor's data\n",
                                  e.name);
                ++problems;
                break;
              }
            if (numRanges == capRanges) {
              capRanges *= 2;
              void *grown = realloc(ranges, capRanges * sizeof *ranges);
              if (!grown) {
                ok = 0;
                break;
              }
              ranges = grown;
            }
            ranges[numRanges][0] = e.begin;
            ranges[numRanges][1] = e.end;
            ++numRanges;
          }
          for (int32_t i = 0; i < info->num_args; ++i)
            if (nameFits && info->args[i].role == ATTN_ARG_PARAM &&
                strcmp(info->args[i].name, e.name) == 0) {
              seen[i] = 1;
              found[i] = e;
            }
        }
      }
      if (!ok)
        break;
      if (peekIs(&r, ','))
        ++r.p;
      else {
        ok = expect(&r, '}');
        break;
      }
    }
  if (ok) {
    skipSpace(&r);
    if (r.p != r.end) {
      ok = 0;
      r.error = "text after the header's object";
    }
  }
  free(ranges);
  for (size_t k = 0; k < numNames; ++k)
    free(names[k]);
  free(names);
  if (!ok) {
    size_t at = (size_t)(r.p - (const char *)file);
    attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
              "safetensors: malformed JSON header at byte %zu: %s", at,
              r.error ? r.error : "out of memory");
    free(found), free(seen), attn_weights_free(w);
    return ATTN_ERROR_INVALID_ARGUMENT;
  }

  /* Every param of the model, by name. */
  size_t slots = (size_t)(info->num_args > 0 ? info->num_args : 1);
  w->data = calloc(slots, sizeof *w->data);
  w->names = calloc(slots, sizeof *w->names);
  w->counts = calloc(slots, sizeof *w->counts);
  if (!w->data || !w->names || !w->counts) {
    free(w->data), free(w->names), free(w->counts);
    w->data = NULL, w->names = NULL, w->counts = NULL;
  }
  for (int32_t i = 0; w->data && i < info->num_args; ++i) {
    const attn_arg_info *arg = &info->args[i];
    if (arg->role != ATTN_ARG_PARAM)
      continue;
    char want[256], got[256];
    formatShape(want, sizeof want, arg->rank, arg->shape);
    if (!seen[i]) {
      attn_append_error("param '%s' %s is missing\n", arg->name, want);
      ++problems;
      continue;
    }
    const entry *e = &found[i];
    if (strcmp(e->dtype, "F32") != 0) {
      attn_append_error("param '%s' is %s, expected F32\n", arg->name, e->dtype);
      ++problems;
      continue;
    }
    if (!sameShape(e, arg)) {
      formatShape(got, sizeof got, e->rank, e->shape);
      attn_append_error("param '%s' has shape %s, expected %s\n", arg->name,
                        got, want);
      ++problems;
      continue;
    }
    /* A bad entry was reported above; its offsets must not be followed. */
    if (!e->dataChecked)
      continue;
    size_t bytesNeeded = (size_t)(e->end - e->begin);
    void *copy = NULL;
    if (posix_memalign(&copy, 64, bytesNeeded ? bytesNeeded : 64) != 0) {
      attn_append_error("param '%s': out of memory\n", arg->name);
      ++problems;
      continue;
    }
    memcpy(copy, dataStart + e->begin, bytesNeeded);
    w->data[i] = copy;
    w->names[i] = strdup(arg->name);
    w->counts[i] = attn_arg_num_elements(arg);
    if (!w->names[i]) {
      attn_append_error("param '%s': out of memory\n", arg->name);
      ++problems;
    }
  }
  free(found), free(seen);
  if (!w->data || problems) {
    if (!w->data)
      attn_append_error("out of memory\n");
    /* drop the final newline of the report */
    const char *msg = attn_last_error();
    size_t n = strlen(msg);
    char report[4096];
    snprintf(report, sizeof report, "safetensors: %d problem%s with model '%s':\n%.*s",
             problems, problems == 1 ? "" : "s", info->name,
             (int)(n && msg[n - 1] == '\n' ? n - 1 : n), msg);
    attn_weights_free(w);
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "%s", report);
  }
  *out = w;
  return ATTN_OK;
}

attn_status attn_weights_load(const char *path, const attn_kernel_info *info,
                              attn_weights **out) {
  if (out)
    *out = NULL;
  if (!path || !info || !out)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_weights_load: path, info and out must not be null");
  FILE *f = fopen(path, "rb");
  if (!f)
    return attn_fail(ATTN_ERROR_NOT_FOUND, "cannot open '%s': %s", path,
                     strerror(errno));
  // fopen opens a directory too, and seeking in one reports a size of
  // LONG_MAX: only a regular file has the size it reads.
  struct stat st;
  const char *why = NULL;
  if (fstat(fileno(f), &st) != 0)
    why = strerror(errno);
  else if (S_ISDIR(st.st_mode))
    why = strerror(EISDIR);
  else if (!S_ISREG(st.st_mode))
    why = "not a regular file";
  if (why) {
    fclose(f);
    return attn_fail(ATTN_ERROR_NOT_FOUND, "cannot read '%s': %s", path, why);
  }
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return attn_fail(ATTN_ERROR_NOT_FOUND, "cannot read '%s'", path);
  }
  void *bytes = malloc(size ? (size_t)size : 1);
  if (!bytes) {
    fclose(f);
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "'%s': %ld bytes do not fit in memory", path, size);
  }
  size_t got = fread(bytes, 1, (size_t)size, f);
  fclose(f);
  if (got != (size_t)size) {
    free(bytes);
    return attn_fail(ATTN_ERROR_NOT_FOUND, "cannot read '%s'", path);
  }
  attn_status status = attn_weights_parse(bytes, (size_t)size, info, out);
  free(bytes);
  if (status != ATTN_OK) {
    char message[4096];
    snprintf(message, sizeof message, "%s: %s", path, attn_last_error());
    return attn_fail(status, "%s", message);
  }
  return ATTN_OK;
}

const float *attn_weights_get(const attn_weights *w, const char *name,
                              int64_t *count) {
  if (!w || !name)
    return NULL;
  for (int32_t i = 0; i < w->numArgs; ++i)
    if (w->names[i] && strcmp(w->names[i], name) == 0) {
      if (count)
        *count = w->counts[i];
      return w->data[i];
    }
  return NULL;
}

void attn_weights_bind(const attn_weights *w, void **args) {
  if (!w || !args)
    return;
  for (int32_t i = 0; i < w->numArgs; ++i)
    if (w->data[i])
      args[i] = w->data[i];
}
