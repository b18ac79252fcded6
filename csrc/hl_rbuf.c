/* hl_rbuf.c: the receive buffer (see hl_rbuf.h).
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "hl_rbuf.h"

#define HL_RBUF_MIN 4096

size_t hl_rbuf_len(const hl_rbuf *b) {
  return b == NULL ? 0 : b->end - b->start;
}

const char *hl_rbuf_bytes(const hl_rbuf *b) {
  return b->data + b->start;
}

char *hl_rbuf_reserve(hl_rbuf **bp, size_t want, size_t *room) {
  hl_rbuf *b = *bp, *grown;
  size_t len = hl_rbuf_len(b), size;
  if (b != NULL && b->size - b->end >= want) {
    *room = b->size - b->end;
    return b->data + b->end;
  }
  if (b != NULL && b->size - len >= want) {   /* slide to the front */
    memmove(b->data, b->data + b->start, len);
    b->start = 0;
    b->end = len;
    *room = b->size - len;
    return b->data + len;
  }
  size = b == NULL ? HL_RBUF_MIN : b->size * 2;
  if (want > (size_t)-1 - sizeof *b - len) return NULL;
  if (size < len + want) size = len + want;
  if (b != NULL && b->start > 0) {
    memmove(b->data, b->data + b->start, len);
    b->start = 0;
    b->end = len;
  }
  grown = realloc(b, sizeof *b + size);
  if (grown == NULL) return NULL;
  if (b == NULL) grown->start = grown->end = grown->nl_clean = 0;
  grown->size = size;
  *bp = grown;
  *room = size - grown->end;
  return grown->data + grown->end;
}

void hl_rbuf_commit(hl_rbuf *b, size_t n) {
  b->end += n;
}

void hl_rbuf_consume(hl_rbuf **bp, size_t n) {
  hl_rbuf *b = *bp;
  if (b == NULL) return;
  b->start += n;
  b->nl_clean = b->nl_clean > n ? b->nl_clean - n : 0;
  if (b->start == b->end) hl_rbuf_free(bp);
}

void hl_rbuf_free(hl_rbuf **bp) {
  free(*bp);
  *bp = NULL;
}

int hl_rbuf_line(hl_rbuf *b, size_t from, size_t maxline, size_t *len) {
  size_t avail = hl_rbuf_len(b), scan, limit;
  const char *base, *nl;
  if (from >= avail) return maxline == 0 ? HL_LINE_TOOLONG : HL_LINE_MORE;
  base = hl_rbuf_bytes(b) + from;
  limit = avail - from < maxline ? avail - from : maxline;
  /* bytes below nl_clean were searched before and hold no newline */
  scan = from < b->nl_clean ? b->nl_clean - from : 0;
  if (scan > limit) scan = limit;
  nl = memchr(base + scan, '\n', limit - scan);
  if (nl != NULL) {
    *len = (size_t)(nl - base) + 1;
    return HL_LINE_FOUND;
  }
  if (from <= b->nl_clean && from + limit > b->nl_clean)
    b->nl_clean = from + limit;
  /* maxline bytes and no '\n' yet: too long once one more byte is there
   * (at the end of the stream they are a last line that fits) */
  return avail - from > maxline ? HL_LINE_TOOLONG : HL_LINE_MORE;
}
