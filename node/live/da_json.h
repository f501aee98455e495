/* The Celestia node JSON-RPC subset as text: building and parsing the requests and replies
 * of blob.Submit, blob.GetAll, header.NetworkHead and header.GetByHeight, for both the DA
 * client and evc-da. Pure functions over bounded buffers: no I/O, no clock, no globals, so
 * fuzzers can hammer every parser. Shapes and quirks: ../shared/celestia-api.md. */
#ifndef EVC_LIVE_DA_JSON_H
#define EVC_LIVE_DA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/core/env.h"

#define EVC_DA_JSON_REPLY_SIZE_MAX (64u * 1024u * 1024u)   /* a reply the client accepts */
#define EVC_DA_JSON_REQUEST_SIZE_MAX (16u * 1024u * 1024u) /* a request either side handles */
#define EVC_DA_JSON_BLOBS_MAX (1u << 20)                   /* blobs in one request or reply */
#define EVC_DA_JSON_NAMESPACES_MAX 256                     /* namespaces in one GetAll */
#define EVC_DA_JSON_MESSAGE_MAX 256                        /* kept bytes of an error text */
#define EVC_DA_JSON_ID_MAX 64                              /* a request id as JSON text */
#define EVC_DA_COMMITMENT_SIZE 32

/* JSON-RPC error codes evc-da answers with; Celestia services use 1 for every error. */
#define EVC_DA_RPC_SERVICE_ERROR 1
#define EVC_DA_RPC_PARSE_ERROR (-32700)
#define EVC_DA_RPC_INVALID_REQUEST (-32600)
#define EVC_DA_RPC_METHOD_NOT_FOUND (-32601)
#define EVC_DA_RPC_INVALID_PARAMS (-32602)

/* What went wrong, for logs: the JSON-RPC code (0 when the reply itself was malformed) and
 * the DA's message or a description of the defect, truncated to fit. */
struct evc_da_json_error {
  int code;
  char message[EVC_DA_JSON_MESSAGE_MAX];
};

/* Blobs decoded from a reply or a request; free with evc_da_json_blobs_free. */
struct evc_da_json_blobs {
  struct evc_da_blob *blobs;
  size_t count;
  uint8_t *storage; /* the decoded data of every blob, one allocation */
};

enum evc_da_method {
  EVC_DA_METHOD_SUBMIT,
  EVC_DA_METHOD_GET_ALL,
  EVC_DA_METHOD_NETWORK_HEAD,
  EVC_DA_METHOD_GET_BY_HEIGHT,
};

/* A request as evc-da reads it. Free with evc_da_json_request_free. */
struct evc_da_json_request {
  enum evc_da_method method;
  char id[EVC_DA_JSON_ID_MAX]; /* the id as JSON text, echoed in the reply; "null" if absent */
  uint64_t height;             /* GetAll, GetByHeight */
  uint8_t (*namespaces)[EVC_NAMESPACE_SIZE]; /* GetAll */
  size_t namespace_count;
  struct evc_da_json_blobs submit; /* Submit */
};

/* One DA block header as evc-da describes it in an extended header. */
struct evc_da_json_header {
  uint64_t height;
  uint64_t time_ns; /* unix nanoseconds */
  uint8_t data_hash[EVC_HASH_SIZE];
  uint8_t last_hash[EVC_HASH_SIZE];
};

/* True when ns is a namespace a blob may use: version 0, 18 leading zero id bytes, and not
 * reserved (0x00...00FF and below). */
bool evc_da_namespace_valid(const uint8_t ns[EVC_NAMESPACE_SIZE]);
/* The commitment evc sends and evc-da stores: SHA-256(namespace || data). Not Celestia's
 * share commitment; no Celestia node checks the one a client sends. */
void evc_da_commitment(const uint8_t ns[EVC_NAMESPACE_SIZE], const uint8_t *data, size_t size,
                       uint8_t out[EVC_DA_COMMITMENT_SIZE]);

/* Request builders (client side). Each allocates *text_out (NUL-terminated; free with
 * free()). EVC_ETOOBIG over EVC_DA_JSON_REQUEST_SIZE_MAX, EVC_EINVAL, EVC_ENOMEM. */
int evc_da_json_submit_request(uint64_t id, const struct evc_da_blob *blobs, size_t count,
                               char **text_out, size_t *size_out);
int evc_da_json_get_all_request(uint64_t id, uint64_t height,
                                const uint8_t (*namespaces)[EVC_NAMESPACE_SIZE],
                                size_t namespace_count, char **text_out, size_t *size_out);
int evc_da_json_network_head_request(uint64_t id, char **text_out, size_t *size_out);
int evc_da_json_get_by_height_request(uint64_t id, uint64_t height, char **text_out,
                                      size_t *size_out);

/* Reply parsers (client side). Each returns 0 or a status in the env's vocabulary:
 * EVC_EDA (the DA answered an error), EVC_EDECODE (the reply is malformed), EVC_ENOMEM, and
 * where the method can say so EVC_ETOOBIG, EVC_ETIMEDOUT (Submit) or EVC_EFUTURE (GetAll,
 * GetByHeight). err is filled on every failure. A reply id other than id is malformed. */
int evc_da_json_parse_submit_reply(const char *text, size_t size, uint64_t id,
                                   uint64_t *height_out, struct evc_da_json_error *err);
/* "blob: not found" and a null result are an empty height (count 0). Blobs come sorted by
 * index (DA order); a duplicate index is malformed. */
int evc_da_json_parse_get_all_reply(const char *text, size_t size, uint64_t id,
                                    struct evc_da_json_blobs *blobs_out,
                                    struct evc_da_json_error *err);
/* header.NetworkHead and header.GetByHeight: the extended header's header.height. */
int evc_da_json_parse_header_reply(const char *text, size_t size, uint64_t id,
                                   uint64_t *height_out, struct evc_da_json_error *err);
void evc_da_json_blobs_free(struct evc_da_json_blobs *blobs);

/* Parses a request (server side). On failure returns EVC_EDECODE with err->code the
 * JSON-RPC code to answer with, and req->id set when it could be read. */
int evc_da_json_parse_request(const char *text, size_t size, struct evc_da_json_request *req,
                              struct evc_da_json_error *err);
void evc_da_json_request_free(struct evc_da_json_request *req);

/* Reply builders (server side); id is JSON text as in struct evc_da_json_request. Each
 * allocates *text_out (free with free()); EVC_ENOMEM, EVC_EINVAL, EVC_ETOOBIG. */
int evc_da_json_error_reply(const char *id, int code, const char *message, char **text_out,
                            size_t *size_out);
int evc_da_json_height_reply(const char *id, uint64_t height, char **text_out,
                             size_t *size_out);
/* count 0 answers null, as current Celestia nodes do. */
int evc_da_json_blobs_reply(const char *id, const struct evc_da_blob *blobs, size_t count,
                            char **text_out, size_t *size_out);
int evc_da_json_header_reply(const char *id, const struct evc_da_json_header *header,
                             char **text_out, size_t *size_out);

#endif
