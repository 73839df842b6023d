//===- CpuKvCache.h - the key/value cache of incremental decoding -*- C++ -*-===//
//
// Decoding (docs/SPEC.md, "Decoding") keeps every attention layer's keys
// and values of the tokens seen so far, so that a step computes only its
// new tokens. The cache is runtime memory outside the compiled code: the
// host creates one per generation (KvCache::create), passes its address
// to the compiled `prefill` and `decode_step` as their `kv_cache` input,
// and the compiled code's `uoe_kv_attend` calls append to it and attend
// over it. Its size is fixed at creation (the longest sequence it holds);
// what a step costs depends on the positions it reads, not on that size.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUKVCACHE_H
#define UOE_RUNTIME_CPUKVCACHE_H

#include "support/Status.h"

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace uoe::rt {

/// Keys and values of `layers` attention layers for `batch` sequences of
/// up to `capacity` positions, `width` values each: per layer and sequence
/// a block of capacity x width keys and one of values, which
/// uoe_kv_attend lays out by the layer's heads (keys [heads, width / heads,
/// capacity], values [heads, capacity, width / heads]).
class KvCache {
public:
  /// A cache; InvalidArgument for sizes that are not positive, Unavailable
  /// ("out of memory") when its memory cannot be had.
  static StatusOr<std::unique_ptr<KvCache>>
  create(int64_t layers, int64_t batch, int64_t capacity, int64_t width);

  /// The value compiled code takes as its `kv_cache` input.
  int64_t address() const { return reinterpret_cast<intptr_t>(this); }

  /// The cache at `address` (compiled code's argument), or null when it
  /// names no live cache (the live ones are registered: any other value is
  /// refused without being dereferenced).
  static KvCache *fromAddress(int64_t address);

  int64_t layers() const { return layers_; }
  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t width() const { return width_; }

  /// The capacity x width keys (values) of (layer, sequence).
  float *keys(int64_t layer, int64_t b) {
    return keys_.get() + block(layer, b);
  }
  float *values(int64_t layer, int64_t b) {
    return values_.get() + block(layer, b);
  }

  ~KvCache();

private:
  KvCache() = default;
  int64_t block(int64_t layer, int64_t b) const {
    return (layer * batch_ + b) * capacity_ * width_;
  }

  struct Free {
    void operator()(float *p) const { std::free(p); }
  };
  int64_t layers_ = 0, batch_ = 0, capacity_ = 0, width_ = 0;
  std::unique_ptr<float[], Free> keys_, values_;
};

} // namespace uoe::rt

extern "C" {

/// The attention of `uoe.kv_attend`: q, k, v are [batch, t, d] (element
/// strides s0, s1, s2; d = heads * dh), start [batch] int64 (stride
/// startStride), out dense [batch, t, d]. For every sequence b and head h,
/// the keys and values of token i go to position start[b] + i of layer
/// `layer`'s cache; then token i's output is softmax over j <= start[b] + i
/// of (q_i . key_j * scale), times the values. A cache address that names
/// no cache, a layer, sizes or a position outside it are recorded for
/// takeCpuBlasError() (the run fails with that message) and nothing is
/// written to the cache.
void uoe_kv_attend(int64_t cache, int64_t layer, int64_t batch, int64_t t,
                   int64_t d, int64_t heads, double scale, int64_t q,
                   int64_t qs0, int64_t qs1, int64_t qs2, int64_t k,
                   int64_t ks0, int64_t ks1, int64_t ks2, int64_t v,
                   int64_t vs0, int64_t vs1, int64_t vs2, int64_t start,
                   int64_t startStride, int64_t out);

} // extern "C"

#endif // UOE_RUNTIME_CPUKVCACHE_H
