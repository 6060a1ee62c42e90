/* inflate.c: berth-inflate.node, gzip decoding with ISA-L's igzip for a pull's layers. Node's
 * zlib (Chromium's, SIMD) inflates the medium fixture at ~200 MB/s on this project's machines,
 * igzip at ~550 MB/s: a third of the CPU of a pull went there. A separate addon from
 * berth-sys.node, so that a machine without libisal still has flock and mount: the TypeScript
 * side falls back to node:zlib when this one does not load. The policy (streams, errors named
 * after the layer) stays in TypeScript (@berth/overlay's decompress.ts).
 *
 *   gunzipNew()                 a decoder: an external holding igzip's state
 *   gunzip(decoder, input, output, result)
 *                               decodes from `input` into `output` (Uint8Arrays) until the input
 *                               is used up, the output is full, or the gzip stream ends; sets
 *                               result[0] to the input bytes consumed and result[1] to the output
 *                               bytes written (result: a Uint32Array of 2); returns the phase,
 *                               0 inside a gzip member, 1 after a complete member (CRC32 and
 *                               size checked), 2 after zero padding that ends the stream, or a
 *                               negative ISA-L error (ISAL_INVALID_BLOCK ...)
 *
 * Members: after a complete member, a next byte of 0 ends the stream (the rest is padding and
 * is consumed unread), any other byte starts a new member (concatenated gzip, as gunzip(1) and
 * node's zlib read it): a wrong header there fails with ISAL_INVALID_WRAPPER. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/igzip_lib.h>
#include <node_api.h>

enum phase { IN_MEMBER = 0, BETWEEN_MEMBERS = 1, PADDING = 2 };

struct decoder {
  struct inflate_state state;
  enum phase phase;
};

static void decoder_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void decoder_start(struct decoder *d) {
  isal_inflate_init(&d->state);
  d->state.crc_flag = ISAL_GZIP;
  d->phase = IN_MEMBER;
}

static napi_value js_gunzip_new(napi_env env, napi_callback_info info) {
  (void)info;
  struct decoder *d = malloc(sizeof *d);
  if (!d) {
    napi_throw_error(env, NULL, "berth-inflate: out of memory");
    return NULL;
  }
  decoder_start(d);
  napi_value out;
  if (napi_create_external(env, d, decoder_free, NULL, &out) != napi_ok) {
    free(d);
    napi_throw_error(env, NULL, "berth-inflate: napi_create_external");
    return NULL;
  }
  return out;
}

/* A Uint8Array's bytes, or a TypeError naming the argument. */
static int get_bytes(napi_env env, napi_value v, const char *what, uint8_t **data, size_t *len) {
  bool is;
  napi_typedarray_type type;
  void *p;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-inflate: %s must be a Uint8Array", what);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  *data = p;
  return 0;
}

static napi_value js_gunzip(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, NULL, "berth-inflate: gunzip(decoder, input, output, result)");
    return NULL;
  }
  struct decoder *d;
  if (napi_get_value_external(env, argv[0], (void **)&d) != napi_ok || d == NULL) {
    napi_throw_type_error(env, NULL, "berth-inflate: decoder must come from gunzipNew()");
    return NULL;
  }
  uint8_t *in, *out;
  size_t in_len, out_len;
  if (get_bytes(env, argv[1], "input", &in, &in_len) < 0 || get_bytes(env, argv[2], "output", &out, &out_len) < 0)
    return NULL;
  bool is;
  napi_typedarray_type type;
  size_t res_len;
  void *res_p;
  if (napi_is_typedarray(env, argv[3], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[3], &type, &res_len, &res_p, NULL, NULL) != napi_ok ||
      type != napi_uint32_array || res_len < 2) {
    napi_throw_type_error(env, NULL, "berth-inflate: result must be a Uint32Array of 2");
    return NULL;
  }
  /* isal counts in 32 bits: a caller never hands over more than a few MiB at once */
  if (in_len > UINT32_MAX / 2 || out_len > UINT32_MAX / 2) {
    napi_throw_range_error(env, NULL, "berth-inflate: input or output over 2 GiB");
    return NULL;
  }
  struct inflate_state *s = &d->state;
  s->next_in = in;
  s->avail_in = (uint32_t)in_len;
  s->next_out = out;
  s->avail_out = (uint32_t)out_len;
  int ret = 0;
  for (;;) {
    if (d->phase == PADDING) {
      s->next_in += s->avail_in;
      s->avail_in = 0;
      break;
    }
    if (d->phase == BETWEEN_MEMBERS) {
      if (s->avail_in == 0) break;
      if (*s->next_in == 0) {
        d->phase = PADDING;
        continue;
      }
      uint8_t *next_in = s->next_in, *next_out = s->next_out;
      uint32_t avail_in = s->avail_in, avail_out = s->avail_out;
      decoder_start(d);
      s->next_in = next_in;
      s->avail_in = avail_in;
      s->next_out = next_out;
      s->avail_out = avail_out;
    }
    ret = isal_inflate(s);
    if (ret < 0) break;
    if (ret != ISAL_DECOMP_OK) {
      /* ISAL_NEED_DICT and the header buffers' overflows: not a layer's gzip */
      ret = ISAL_INVALID_WRAPPER;
      break;
    }
    if (s->block_state == ISAL_BLOCK_FINISH) {
      d->phase = BETWEEN_MEMBERS;
      continue;
    }
    break; /* input used up or output full */
  }
  uint32_t *res = res_p;
  res[0] = (uint32_t)(in_len - s->avail_in);
  res[1] = (uint32_t)(out_len - s->avail_out);
  s->next_in = NULL;
  s->next_out = NULL;
  napi_value r;
  if (napi_create_int32(env, ret < 0 ? ret : (int32_t)d->phase, &r) != napi_ok) return NULL;
  return r;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"gunzipNew", NULL, js_gunzip_new, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gunzip", NULL, js_gunzip, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
