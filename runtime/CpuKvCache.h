//===- CpuKvCache.h - the key/value cache of incremental decoding -*- C++
//-*-===//
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
#include <vector>

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

  /// How many tokens expert e of a selective layer has cached for sequence
  /// b (e < width; 0 in a new cache).
  int64_t &count(int64_t layer, int64_t b, int64_t e) {
    return counts_[(layer * batch_ + b) * width_ + e];
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
  std::vector<int64_t> counts_;
};

} // namespace uoe::rt

extern "C" {

/// `flags` bits of uoe_kv_attend.
enum KvAttendFlags : int64_t {
  kKvAttendSelected = 1,     ///< Rows are (expert, sequence) selections.
  kKvAttendRopeOriginal = 2, ///< Rotary embedding at the tokens' positions.
};

/// The attention of `uoe.kv_attend`: q, k, v are [rows, slots, d] (element
/// strides s0, s1, s2; d = heads * dh), start [batch] int64 (stride
/// startStride), out dense [rows, slots, d]. Row r belongs to sequence
/// b = r % batch and expert e = r / batch (rows = experts * batch; one
/// expert for dense attention). Slot l holds token t = l of the call, or
/// with kKvAttendSelected t = positions[r, l] (int64, row stride posStride),
/// and then only if padding[r, t] is 0 (bytes, row stride padStride, t <
/// tokens); other slots are skipped (their output is 0). A token's position
/// is start[b] + t: its rotary position (kKvAttendRopeOriginal; base
/// ropeBase) and, for dense rows, its place in the cache; a selected row
/// appends its tokens after the expert's earlier ones (KvCache::count).
/// The keys and values of the kept slots are written to layer `layer` of
/// the cache (expert e's heads after those of the experts before it), then
/// each kept slot attends over its row's cached entries up to its own:
/// softmax of (q . key * scale), times the values. A cache address that
/// names no live cache, a layer, sizes or an entry outside it are recorded
/// for takeCpuBlasError() as InvalidArgument (the run fails with that
/// message), and nothing is written to the cache.
void uoe_kv_attend(int64_t cache, int64_t layer, int64_t flags, int64_t batch,
                   int64_t rows, int64_t slots, int64_t d, int64_t heads,
                   double scale, double ropeBase, int64_t q, int64_t qs0,
                   int64_t qs1, int64_t qs2, int64_t k, int64_t ks0,
                   int64_t ks1, int64_t ks2, int64_t v, int64_t vs0,
                   int64_t vs1, int64_t vs2, int64_t start, int64_t startStride,
                   int64_t positions, int64_t posStride, int64_t padding,
                   int64_t padStride, int64_t tokens, int64_t out);

} // extern "C"

#endif // UOE_RUNTIME_CPUKVCACHE_H
