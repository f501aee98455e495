/* A lying DA for the bad-input test: an HTTP server on 127.0.0.1 that answers every JSON-RPC
 * request with the next of a list of malformed or hostile replies for that method, so a
 * node's DA client meets each of them. It must never serve a blob a node could store. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REQUEST_SIZE_MAX (64u * 1024u)
#define TOKEN_MAX 48u
#define HUGE_REPLY_SIZE (65u * 1024u * 1024u) /* above the client's 64 MiB reply cap */
#define DEEP_NESTING 100000u
#define MANY_BLOBS 50000u
#define READ_TIMEOUT_S 2

/* A growable reply body. */
struct text {
  char *p;
  size_t len;
  size_t cap;
  bool oom;
};

static void text_add(struct text *t, const char *s, size_t n) {
  if (t->oom) return;
  if (n > t->cap - t->len) {
    size_t cap = t->cap == 0 ? 4096 : t->cap;
    while (n > cap - t->len) cap *= 2;
    char *p = realloc(t->p, cap);
    if (p == NULL) {
      t->oom = true;
      return;
    }
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
}

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line) {
    t->oom = true;
    return;
  }
  text_add(t, line, (size_t)n);
}

/* The replies, by name. Header methods get the HEAD list, blob.GetAll the BLOB list; both
 * cycle. "head_ok" is the only well-formed answer: it lets the node move on to GetAll. */
static const char *const HEAD_REPLIES[] = {
    "head_ok",      "not_json",   "truncated_json", "wrong_id",  "height_negative",
    "height_huge",  "height_float", "result_null",  "http_500",  "short_body",
    "deep_nesting", "error_odd",  "head_ok",
};
static const char *const BLOB_REPLIES[] = {
    "blobs_bad_base64", "blobs_bad_namespace", "blobs_junk",     "blobs_not_array",
    "blobs_index_negative", "blobs_share_version", "blobs_many", "huge_reply",
    "error_future_garbled", "not_json",        "truncated_json", "wrong_id",
    "http_500",         "short_body",          "deep_nesting",   "error_odd",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct reply {
  int status;
  bool short_body; /* announce more bytes than are sent, then close */
  struct text body;
};

struct config {
  const char *header_ns; /* base64, the node's namespaces: junk must land where it looks */
  const char *data_ns;
};

static void blob(struct text *t, const char *ns, const char *data, const char *index,
                 const char *share_version) {
  text_printf(t, "{\"namespace\":\"%s\",\"data\":\"%s\",\"share_version\":%s,"
                 "\"commitment\":\"AAAA\",\"index\":%s}", ns, data, share_version, index);
}

/* Well-formed JSON-RPC envelopes whose result or error is wrong in one way. */
static bool reply_envelope(const char *name, const char *id, const struct config *cfg,
                           struct text *b) {
  if (strncmp(name, "height_", 7) == 0 || strcmp(name, "head_ok") == 0) {
    const char *h = strcmp(name, "head_ok") == 0           ? "\"3\""
                    : strcmp(name, "height_negative") == 0 ? "\"-7\""
                    : strcmp(name, "height_huge") == 0     ? "\"184467440737095516160\""
                                                           : "3.5";
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"header\":{\"height\":%s,"
                   "\"chain_id\":\"fake\"}}}", id, h);
  } else if (strcmp(name, "wrong_id") == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s0007,\"result\":3}", id);
  } else if (strcmp(name, "result_null") == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":null}", id);
  } else if (strcmp(name, "error_odd") == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":\"x\",\"message\":12}}", id);
  } else if (strcmp(name, "error_future_garbled") == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":1,\"message\":"
                   "\"header: given height is from the future: networkHeight: x, "
                   "requestedHeight: \"}}", id);
  } else if (strcmp(name, "blobs_not_array") == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":\"yes\"}", id);
  } else if (strncmp(name, "blobs_", 6) == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":[", id);
    if (strcmp(name, "blobs_bad_base64") == 0) blob(b, cfg->header_ns, "!!!!", "0", "0");
    if (strcmp(name, "blobs_bad_namespace") == 0) blob(b, "AAAA", "3q2+7w==", "0", "0");
    if (strcmp(name, "blobs_index_negative") == 0) blob(b, cfg->header_ns, "3q2+7w==", "-5", "0");
    if (strcmp(name, "blobs_share_version") == 0) blob(b, cfg->data_ns, "3q2+7w==", "0", "1");
    if (strcmp(name, "blobs_junk") == 0) {
      blob(b, cfg->header_ns, "AgEC3q2+7w==", "0", "0"); /* starts like a signed header */
      text_add(b, ",", 1);
      blob(b, cfg->data_ns, "AwMD3q2+7w==", "1", "0");
    }
    if (strcmp(name, "blobs_many") == 0) {
      for (uint32_t i = 0; i < MANY_BLOBS; i++) { /* distinct indexes: reach the per-height caps */
        char index[16];
        snprintf(index, sizeof index, "%u", i);
        if (i > 0) text_add(b, ",", 1);
        blob(b, cfg->header_ns, "Ag==", index, "0");
      }
    }
    text_add(b, "]}", 2);
  } else {
    return false;
  }
  return true;
}

/* Builds the reply called name to a request with the given id. */
static void reply_build(const char *name, const char *id, const struct config *cfg,
                        struct reply *r) {
  memset(r, 0, sizeof *r);
  r->status = 200;
  struct text *b = &r->body;
  if (reply_envelope(name, id, cfg, b)) return;
  if (strcmp(name, "not_json") == 0) {
    text_printf(b, "<html><body>502 bad gateway</body></html>");
  } else if (strcmp(name, "truncated_json") == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"header\":{\"hei", id);
  } else if (strcmp(name, "http_500") == 0) {
    r->status = 500;
    text_printf(b, "internal error");
  } else if (strcmp(name, "short_body") == 0) {
    r->short_body = true;
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,", id);
  } else if (strcmp(name, "deep_nesting") == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":", id);
    for (uint32_t i = 0; i < DEEP_NESTING; i++) text_add(b, "[", 1);
    for (uint32_t i = 0; i < DEEP_NESTING; i++) text_add(b, "]", 1);
    text_add(b, "}", 1);
  } else if (strcmp(name, "huge_reply") == 0) {
    text_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":[], \"pad\":\"", id);
    char pad[4096];
    memset(pad, 'x', sizeof pad);
    while (!b->oom && b->len < HUGE_REPLY_SIZE) text_add(b, pad, sizeof pad);
    text_add(b, "\"}", 2);
  }
}

static bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Copies the JSON token after "key": (a number, or a string's contents) into out. */
static void json_token(const char *body, const char *key, char out[TOKEN_MAX]) {
  out[0] = '\0';
  const char *p = strstr(body, key);
  if (p == NULL) return;
  p += strlen(key);
  while (*p == ' ' || *p == ':' || *p == '"') p++;
  size_t n = 0;
  while (n + 1 < TOKEN_MAX && (isalnum((unsigned char)*p) || *p == '.' || *p == '_')) {
    out[n++] = *p++;
  }
  out[n] = '\0';
}

/* The first case-insensitive occurrence of name (lowercase) in buf, or NULL. */
static const char *find_header(const char *buf, const char *name) {
  size_t n = strlen(name);
  for (const char *p = buf; *p != '\0'; p++) {
    if (strncasecmp(p, name, n) == 0) return p;
  }
  return NULL;
}

/* Reads one HTTP request (headers and a Content-Length body) into buf; false if it is not
 * one this server accepts. */
static bool read_request(int fd, char *buf, size_t cap, size_t *len_out) {
  size_t len = 0;
  size_t need = 0;
  for (;;) {
    if (len + 1 >= cap) return false;
    ssize_t r = read(fd, buf + len, cap - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    len += (size_t)r;
    buf[len] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (end == NULL) continue;
    if (need == 0) {
      const char *cl = find_header(buf, "content-length:");
      unsigned long body = cl == NULL || cl > end ? 0 : strtoul(cl + 15, NULL, 10);
      if (body >= cap) return false;
      need = (size_t)(end + 4 - buf) + body;
    }
    if (len >= need) break;
  }
  *len_out = len;
  return true;
}

static void serve(int fd, const struct config *cfg, unsigned *head_next, unsigned *blob_next,
                  unsigned long served) {
  static char buf[REQUEST_SIZE_MAX];
  size_t len = 0;
  if (!read_request(fd, buf, sizeof buf, &len)) return;
  char id[TOKEN_MAX], method[TOKEN_MAX];
  json_token(buf, "\"id\"", id);
  json_token(buf, "\"method\"", method);
  if (id[0] == '\0') snprintf(id, sizeof id, "0");
  const char *name = strncmp(method, "blob.", 5) == 0
                         ? BLOB_REPLIES[(*blob_next)++ % COUNT(BLOB_REPLIES)]
                         : HEAD_REPLIES[(*head_next)++ % COUNT(HEAD_REPLIES)];
  struct reply r;
  reply_build(name, id, cfg, &r);
  if (!r.body.oom) {
    char head[256];
    size_t announced = r.short_body ? r.body.len + 1000 : r.body.len;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     r.status, r.status == 200 ? "OK" : "Internal Server Error", announced);
    if (n > 0 && (size_t)n < sizeof head && write_all(fd, head, (size_t)n)) {
      (void)write_all(fd, r.body.p, r.body.len);
    }
  }
  printf("served n=%lu method=%s reply=%s\n", served, method[0] ? method : "-", name);
  fflush(stdout);
  free(r.body.p);
}

static int listen_loopback(const char *port_file) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
    perror("fake_da: listen on 127.0.0.1");
    return -1;
  }
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", port_file) >= (int)sizeof tmp) return -1;
  FILE *f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "127.0.0.1:%u\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
      rename(tmp, port_file) != 0) {
    perror("fake_da: write the address file");
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fake_da ADDRESS_FILE HEADER_NS_BASE64 DATA_NS_BASE64\n"
                    "Answers JSON-RPC on 127.0.0.1 (a free port, written to ADDRESS_FILE)\n"
                    "with malformed replies, in turn; one line per request on stdout.\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a client that gives up on a huge reply is expected */
  struct config cfg = {.header_ns = argv[2], .data_ns = argv[3]};
  int lfd = listen_loopback(argv[1]);
  if (lfd < 0) return 1;
  unsigned head_next = 0, blob_next = 0;
  for (unsigned long served = 0;; served++) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("fake_da: accept");
      return 1;
    }
    struct timeval tv = {.tv_sec = READ_TIMEOUT_S};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    serve(fd, &cfg, &head_next, &blob_next, served);
    close(fd);
  }
}
