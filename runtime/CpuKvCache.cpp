//===- CpuKvCache.cpp - the key/value cache of incremental decoding -------===//
//
// uoe_kv_attend (CpuKvCache.h): every kept slot's place in the cache is
// found and checked first (nothing is written for a bad call); the new keys
// (rotated, transposed per head) and values are appended; then per (row,
// head) each kept slot attends over the row's cached entries up to its own:
// the scores of 64 entries at a time, the softmax with its maximum
// subtracted, the values weighted and summed in entry order. A row is a
// sequence (dense attention) or an (expert, sequence) selection (causal-safe
// SMHA, whose entries are the expert's tokens). Work is spread over (row,
// head) pairs, each computed the same way whatever the thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuKvCache.h"
#include "runtime/CpuAttention.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuMath.h"
#include "runtime/ScratchBuffer.h"

#include <omp.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>
#include <vector>

using namespace uoe;
using namespace uoe::rt;

namespace {

/// The live caches, so that an address is checked before it is used.
struct LiveCaches {
  std::mutex mutex;
  std::set<const KvCache *> caches;
};

LiveCaches &liveCaches() {
  static LiveCaches *live = new LiveCaches();
  return *live;
}

} // namespace

StatusOr<std::unique_ptr<KvCache>> KvCache::create(int64_t layers,
                                                   int64_t batch,
                                                   int64_t capacity,
                                                   int64_t width) {
  if (layers < 1 || batch < 1 || capacity < 1 || width < 1)
    return invalidArgumentError(strCat(
        "a key/value cache needs positive sizes (layers ", layers, ", batch ",
        batch, ", positions ", capacity, ", width ", width, ")"));
  int64_t floats = layers;
  for (int64_t factor : {batch, capacity, width})
    if (__builtin_mul_overflow(floats, factor, &floats))
      return outOfRangeError("the key/value cache's size overflows");
  size_t bytes = static_cast<size_t>(floats) * sizeof(float);
  std::unique_ptr<KvCache> cache(new KvCache());
  cache->layers_ = layers;
  cache->batch_ = batch;
  cache->capacity_ = capacity;
  cache->width_ = width;
  cache->counts_.assign(static_cast<size_t>(layers * batch * width), 0);
  bytes = (bytes + 63) / 64 * 64;
  cache->keys_.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
  cache->values_.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
  if (!cache->keys_ || !cache->values_)
    return unavailableError(strCat(
        "out of memory for the key/value cache (2 x ", bytes >> 20, " MiB)"));
  LiveCaches &live = liveCaches();
  std::lock_guard<std::mutex> lock(live.mutex);
  live.caches.insert(cache.get());
  return cache;
}

KvCache::~KvCache() {
  LiveCaches &live = liveCaches();
  std::lock_guard<std::mutex> lock(live.mutex);
  live.caches.erase(this);
}

KvCache *KvCache::fromAddress(int64_t address) {
  auto *cache = reinterpret_cast<KvCache *>(static_cast<intptr_t>(address));
  LiveCaches &live = liveCaches();
  std::lock_guard<std::mutex> lock(live.mutex);
  return live.caches.count(cache) ? cache : nullptr;
}

namespace {

thread_local ScratchBuffer<float> scoreBuffer;

/// One call of uoe_kv_attend, checked.
struct KvProblem {
  KvCache *cache;
  int64_t layer, batch, rows, slots, width, heads, dh;
  float scale;
  const float *table; ///< the rotary table, or null
  const float *q, *k, *v;
  int64_t qs[3], ks[3], vs[3];
  const int64_t *start;
  int64_t startStride;
  /// Per (row, slot): the token's place in the cache, or -1 when skipped;
  /// and its position (start[b] + t).
  std::vector<int64_t> index, position;
  float *out;

  int64_t sequence(int64_t r) const { return r % batch; }
  int64_t expert(int64_t r) const { return r / batch; }
  /// Head h of row r's expert as a head of the layer.
  int64_t layerHead(int64_t r, int64_t h) const {
    return expert(r) * heads + h;
  }
};

/// Writes the kept slots' keys (rotated, transposed per head: [heads, dh,
/// capacity]) and values ([heads, capacity, dh]) to the cache.
void append(KvProblem &p) {
  int64_t capacity = p.cache->capacity(), dh = p.dh;
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t l = 0; l < p.slots; ++l) {
      int64_t at = p.index[r * p.slots + l];
      if (at < 0)
        continue;
      int64_t b = p.sequence(r);
      for (int64_t h = 0; h < p.heads; ++h) {
        int64_t head = p.layerHead(r, h) * capacity * dh;
        float *key = p.cache->keys(p.layer, b) + head + at;
        float *value = p.cache->values(p.layer, b) + head + at * dh;
        const float *k = p.k + r * p.ks[0] + l * p.ks[1] + h * dh * p.ks[2];
        const float *v = p.v + r * p.vs[0] + l * p.vs[1] + h * dh * p.vs[2];
        if (p.table)
          rotateHead(p.table + p.position[r * p.slots + l] * dh, dh, k, p.ks[2],
                     key, capacity);
        else
          for (int64_t c = 0; c < dh; ++c)
            key[c * capacity] = k[c * p.ks[2]];
        for (int64_t c = 0; c < dh; ++c)
          value[c] = v[c * p.vs[2]];
      }
    }
}

/// One (row, head): every kept slot attends over the row's cached entries
/// up to its own. Returns false when scratch memory ran out.
bool attendHead(const KvProblem &p, int64_t r, int64_t h) {
  int64_t capacity = p.cache->capacity(), dh = p.dh;
  int64_t b = p.sequence(r), head = p.layerHead(r, h) * capacity * dh;
  const float *keys = p.cache->keys(p.layer, b) + head,
              *values = p.cache->values(p.layer, b) + head;
  int64_t last = -1;
  for (int64_t l = 0; l < p.slots; ++l)
    last = std::max(last, p.index[r * p.slots + l]);
  float *scores = scoreBuffer.get(static_cast<size_t>(last + 1 + dh));
  if (!scores)
    return false;
  float *query = scores + last + 1;
  for (int64_t l = 0; l < p.slots; ++l) {
    float *o = p.out + (r * p.slots + l) * p.width + h * dh;
    std::fill(o, o + dh, 0.0f);
    int64_t at = p.index[r * p.slots + l];
    if (at < 0)
      continue;
    const float *q = p.q + r * p.qs[0] + l * p.qs[1] + h * dh * p.qs[2];
    if (p.table)
      rotateHead(p.table + p.position[r * p.slots + l] * dh, dh, q, p.qs[2],
                 query, 1);
    else
      for (int64_t c = 0; c < dh; ++c)
        query[c] = q[c * p.qs[2]];
    int64_t count = at + 1;
    // The scores of 64 keys at a time: one multiply-add per key and
    // component, in component order, a key per vector lane.
    for (int64_t j0 = 0; j0 < count; j0 += 64) {
      int64_t keysHere = std::min<int64_t>(64, count - j0);
      float dot[64] = {};
      for (int64_t c = 0; c < dh; ++c) {
        float qc = query[c];
        const float *row = keys + c * capacity + j0;
#pragma omp simd
        for (int64_t j = 0; j < keysHere; ++j)
          dot[j] += qc * row[j];
      }
      for (int64_t j = 0; j < keysHere; ++j)
        scores[j0 + j] = dot[j] * p.scale;
    }
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < count; ++j)
      max = std::max(max, scores[j]);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < count; ++j) {
      scores[j] = expApprox(scores[j] - max);
      sum += scores[j];
    }
    for (int64_t j = 0; j < count; ++j) {
      const float *value = values + j * dh;
      float weight = scores[j];
#pragma omp simd
      for (int64_t c = 0; c < dh; ++c)
        o[c] += weight * value[c];
    }
    float inverse = 1.0f / sum;
    for (int64_t c = 0; c < dh; ++c)
      o[c] *= inverse;
  }
  return true;
}

} // namespace

extern "C" void
uoe_kv_attend(int64_t cacheAddress, int64_t layer, int64_t flags, int64_t batch,
              int64_t rows, int64_t slots, int64_t d, int64_t heads,
              double scale, double ropeBase, int64_t q, int64_t qs0,
              int64_t qs1, int64_t qs2, int64_t k, int64_t ks0, int64_t ks1,
              int64_t ks2, int64_t v, int64_t vs0, int64_t vs1, int64_t vs2,
              int64_t start, int64_t startStride, int64_t positions,
              int64_t posStride, int64_t padding, int64_t padStride,
              int64_t tokens, int64_t out) {
  // What the caller's inputs cause (the cache, the positions).
  auto bad = [](auto... parts) {
    recordCpuKernelError(strCat("uoe_kv_attend: ", parts...),
                         StatusCode::InvalidArgument);
  };
  KvCache *cache = KvCache::fromAddress(cacheAddress);
  if (!cache)
    return bad("the kv_cache input does not name a key/value cache");
  if (layer < 0 || layer >= cache->layers())
    return bad("layer ", layer, " is outside the cache's ", cache->layers(),
               " layers");
  bool selected = (flags & kKvAttendSelected) != 0;
  int64_t experts = batch > 0 ? rows / batch : 0;
  if (flags & ~int64_t(kKvAttendSelected | kKvAttendRopeOriginal) ||
      batch < 1 || batch > cache->batch() || rows != experts * batch ||
      (!selected && experts != 1) || slots < 0 || heads < 1 || d % heads != 0 ||
      experts * d != cache->width() ||
      ((flags & kKvAttendRopeOriginal) && (d / heads) % 2 != 0) ||
      (selected && tokens < 1))
    return bad("sizes (flags ", flags, ", batch ", batch, ", rows ", rows,
               ", tokens ", slots, ", width ", d, ", heads ", heads,
               ") do not fit the cache (batch ", cache->batch(), ", width ",
               cache->width(), ")");
  auto *starts = reinterpret_cast<const int64_t *>(start);
  auto *slotTokens = reinterpret_cast<const int64_t *>(positions);
  auto *padded = reinterpret_cast<const uint8_t *>(padding);
  auto floats = [](int64_t address) {
    return reinterpret_cast<const float *>(address);
  };
  KvProblem p{cache,
              layer,
              batch,
              rows,
              slots,
              d,
              heads,
              d / heads,
              static_cast<float>(scale),
              nullptr,
              floats(q),
              floats(k),
              floats(v),
              {qs0, qs1, qs2},
              {ks0, ks1, ks2},
              {vs0, vs1, vs2},
              starts,
              startStride,
              {},
              {},
              reinterpret_cast<float *>(out)};
  // Every kept slot's place in the cache and position, checked before
  // anything is written.
  p.index.assign(static_cast<size_t>(rows * slots), -1);
  p.position.assign(static_cast<size_t>(rows * slots), 0);
  int64_t maxPosition = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t b = p.sequence(r),
            next = selected ? cache->count(layer, b, p.expert(r)) : 0;
    for (int64_t l = 0; l < slots; ++l) {
      int64_t t = selected ? slotTokens[r * posStride + l] : l;
      if (selected && (t < 0 || t >= tokens))
        return bad("slot ", l, " of row ", r, " names token ", t,
                   ", outside [0, ", tokens, ")");
      if (selected && padded[r * padStride + t])
        continue;
      int64_t position = starts[b * startStride] + t;
      int64_t at = selected ? next++ : position;
      if (position < 0 || at < 0 || at >= cache->capacity())
        return bad("sequence ", b, " writes position ", position,
                   selected
                       ? strCat(" (entry ", at, " of expert ", p.expert(r), ")")
                       : std::string(),
                   ", outside the cache's ", cache->capacity(),
                   " positions (the maximum length)");
      p.index[r * slots + l] = at;
      p.position[r * slots + l] = position;
      maxPosition = std::max(maxPosition, position);
    }
  }
  std::shared_ptr<const RopeTable> table;
  if (flags & kKvAttendRopeOriginal) {
    table = ropeTable(p.dh, ropeBase, maxPosition + 1);
    p.table = table->values.data();
  }
  append(p);
  int64_t items = rows * heads;
  bool ok = true;
  bool parallel = items > 1 && omp_get_max_threads() > 1;
#pragma omp parallel for schedule(static) if (parallel) reduction(&& : ok)
  for (int64_t item = 0; item < items; ++item)
    ok = attendHead(p, item / heads, item % heads) && ok;
  if (selected)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t l = 0; l < slots; ++l)
        cache->count(layer, p.sequence(r), p.expert(r)) +=
            p.index[r * slots + l] >= 0;
  if (!ok)
    recordCpuKernelError("uoe_kv_attend: out of memory for the scores",
                         StatusCode::Unavailable);
}
