/* hl_rbuf.h: a socket's receive buffer.
 * Bytes that arrived but were not yet asked for wait here, so a read that
 * stops early (a line still incomplete, a timeout, would-block) loses
 * nothing. The buffer exists only while it holds bytes: a socket with
 * nothing unread points to NULL, and an idle connection costs no buffer.
 * It never touches a descriptor, so it can be tested and fuzzed alone.
 * SPDX-License-Identifier: MIT */
#ifndef HL_RBUF_H
#define HL_RBUF_H

#include <stddef.h>

typedef struct hl_rbuf {
  size_t start, end;  /* the unread bytes are data[start .. end) */
  size_t size;        /* bytes allocated for data */
  size_t nl_clean;    /* data[start .. start + nl_clean) has no '\n' */
  char data[];
} hl_rbuf;

enum { HL_LINE_FOUND, HL_LINE_MORE, HL_LINE_TOOLONG };

size_t hl_rbuf_len(const hl_rbuf *b);
const char *hl_rbuf_bytes(const hl_rbuf *b);

/* Makes room for at least want more bytes, allocating the buffer if need
 * be; returns where to write and stores in *room how many bytes fit, or
 * returns NULL when memory runs out (the buffer is left as it was). */
char *hl_rbuf_reserve(hl_rbuf **bp, size_t want, size_t *room);
void hl_rbuf_commit(hl_rbuf *b, size_t n);

/* Drops n unread bytes from the front; frees the buffer once empty. */
void hl_rbuf_consume(hl_rbuf **bp, size_t n);
void hl_rbuf_free(hl_rbuf **bp);

/* Looks for the end of the line that starts at offset from: HL_LINE_FOUND
 * with *len the length including '\n'; HL_LINE_MORE when more bytes are
 * needed (or, at the end of the stream, the rest is the last line);
 * HL_LINE_TOOLONG when maxline bytes hold no '\n' and more bytes follow
 * them. Remembers how far it looked, so a line that arrives a byte at a
 * time costs linear time, not quadratic. */
int hl_rbuf_line(hl_rbuf *b, size_t from, size_t maxline, size_t *len);

#endif
