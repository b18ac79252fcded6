/* spec/tools/fuzz_rbuf.c: libFuzzer target for the receive buffer
 * (csrc/hl_rbuf.c). The input is a program of operations: reserve room
 * and fill part of it, consume from the front, look for a line from an
 * offset under a length cap, free. Each runs on the buffer and on a plain
 * copy of its bytes, and every answer of the buffer (its length, its
 * bytes, hl_rbuf_line's verdict, which it memoizes between calls) must
 * equal what a naive scan of the copy says. Any difference aborts.
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_rbuf.h"

#define MODEL_MAX (1 << 20)

typedef struct program {
  const uint8_t *p;
  size_t n;
} program;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next count bytes of the program as a little-endian number; 0 once
 * the program has run out. */
static size_t take(program *pr, int count) {
  size_t v = 0;
  int i;
  for (i = 0; i < count && pr->n > 0; i++, pr->p++, pr->n--)
    v |= (size_t)*pr->p << (8 * i);
  return v;
}

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_rbuf: %s\n", what);
    abort();
  }
}

/* hl_rbuf_line's contract, by brute force over the copy. */
static int model_line(const char *m, size_t len, size_t from, size_t maxline,
                      size_t *linelen) {
  size_t avail, limit, i;
  if (from >= len) return maxline == 0 ? HL_LINE_TOOLONG : HL_LINE_MORE;
  avail = len - from;
  limit = avail < maxline ? avail : maxline;
  for (i = 0; i < limit; i++) {
    if (m[from + i] == '\n') {
      *linelen = i + 1;
      return HL_LINE_FOUND;
    }
  }
  return avail > maxline ? HL_LINE_TOOLONG : HL_LINE_MORE;
}

static void same_bytes(const hl_rbuf *b, const char *model, size_t len) {
  check(hl_rbuf_len(b) == len, "length differs from the model");
  check(len == 0 || memcmp(hl_rbuf_bytes(b), model, len) == 0,
        "bytes differ from the model");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char model[MODEL_MAX];
  program pr;
  hl_rbuf *b = NULL;
  size_t len = 0;
  pr.p = data;
  pr.n = size;
  while (pr.n > 0) {
    switch (take(&pr, 1) % 5) {
      case 0: {           /* reserve want, write k bytes, commit them */
        size_t want = take(&pr, 2), k = take(&pr, 2), every = take(&pr, 1);
        size_t room = 0, i;
        char *p = hl_rbuf_reserve(&b, want, &room);
        check(p != NULL, "reserve failed");
        check(room >= want, "reserve gave less room than asked");
        if (k > room) k = room;
        if (k > MODEL_MAX - len) k = MODEL_MAX - len;
        for (i = 0; i < k; i++)   /* a newline every so often, or none */
          p[i] = (every != 0 && i % every == every - 1) ? '\n'
                                                        : (char)('a' + i % 26);
        hl_rbuf_commit(b, k);
        memcpy(model + len, p, k);
        len += k;
        break;
      }
      case 1: {           /* consume up to all of it */
        size_t n = take(&pr, 3) % (len + 1);
        hl_rbuf_consume(&b, n);
        memmove(model, model + n, len - n);
        len -= n;
        if (len == 0) check(b == NULL, "an empty buffer was kept");
        break;
      }
      case 2: {           /* look for a line */
        size_t from = take(&pr, 2) % (len + 1), maxline = take(&pr, 2);
        size_t got = 0, want = 0;
        int verdict, expected;
        if (take(&pr, 1) & 1) maxline = (size_t)-1;   /* no cap */
        verdict = hl_rbuf_line(b, from, maxline, &got);
        expected = model_line(model, len, from, maxline, &want);
        check(verdict == expected, "hl_rbuf_line's verdict is wrong");
        check(verdict != HL_LINE_FOUND || got == want,
              "hl_rbuf_line's length is wrong");
        break;
      }
      case 3:             /* drop it all */
        hl_rbuf_free(&b);
        check(b == NULL, "free left a pointer");
        len = 0;
        break;
      default:
        same_bytes(b, model, len);
    }
    check(hl_rbuf_len(b) == len, "length differs from the model");
  }
  same_bytes(b, model, len);
  hl_rbuf_free(&b);
  return 0;
}
