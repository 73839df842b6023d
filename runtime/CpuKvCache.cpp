//===- CpuKvCache.cpp - the key/value cache of incremental decoding -------===//
//
// uoe_kv_attend (CpuKvCache.h): the new tokens' keys and values are
// appended, then per (sequence, head) each token attends over positions
// 0 .. its own: scores in one pass (a dot product per cached key), the softmax with
// its maximum subtracted, then the values weighted and summed in position
// order. Work is spread over (sequence, head) pairs, each computed the
// same way whatever the thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuKvCache.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuMath.h"
#include "runtime/ScratchBuffer.h"

#include <omp.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>

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
    return invalidArgumentError(
        strCat("a key/value cache needs positive sizes (layers ", layers,
               ", batch ", batch, ", positions ", capacity, ", width ", width,
               ")"));
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
  bytes = (bytes + 63) / 64 * 64;
  cache->keys_.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
  cache->values_.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
  if (!cache->keys_ || !cache->values_)
    return unavailableError(strCat("out of memory for the key/value cache (2 x ",
                                   bytes >> 20, " MiB)"));
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

/// One (sequence, head): attend the t new tokens (whose keys and values
/// are in the cache already) over positions 0 .. their own. Returns false
/// when scratch memory ran out.
bool attendHead(KvCache &cache, int64_t layer, int64_t b, int64_t h,
                int64_t dh, int64_t t, int64_t first, float scale,
                const float *q, const int64_t qs[3], float *out) {
  // Head h's keys transposed, [dh, capacity]; its values [capacity, dh].
  int64_t capacity = cache.capacity(), d = cache.width();
  int64_t offset = h * capacity * dh;
  const float *keys = cache.keys(layer, b) + offset,
              *values = cache.values(layer, b) + offset;
  float *scores = scoreBuffer.get(static_cast<size_t>(first + t + dh));
  if (!scores)
    return false;
  float *query = scores + first + t;
  for (int64_t i = 0; i < t; ++i) {
    for (int64_t c = 0; c < dh; ++c)
      query[c] = q[b * qs[0] + i * qs[1] + (h * dh + c) * qs[2]];
    int64_t count = first + i + 1;
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
        scores[j0 + j] = dot[j] * scale;
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
    float *o = out + (b * t + i) * d + h * dh;
    std::fill(o, o + dh, 0.0f);
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

extern "C" void uoe_kv_attend(int64_t cacheAddress, int64_t layer,
                              int64_t batch, int64_t t, int64_t d,
                              int64_t heads, double scale, int64_t q,
                              int64_t qs0, int64_t qs1, int64_t qs2, int64_t k,
                              int64_t ks0, int64_t ks1, int64_t ks2, int64_t v,
                              int64_t vs0, int64_t vs1, int64_t vs2,
                              int64_t start, int64_t startStride,
                              int64_t out) {
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
  if (batch < 1 || batch > cache->batch() || t < 1 || heads < 1 ||
      d != cache->width() || d % heads != 0)
    return bad("sizes (batch ", batch, ", tokens ", t, ", width ", d,
               ", heads ", heads, ") do not fit the cache (batch ",
               cache->batch(), ", width ", cache->width(), ")");
  auto *starts = reinterpret_cast<const int64_t *>(start);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t first = starts[b * startStride];
    if (first < 0 || first > cache->capacity() - t)
      return bad("sequence ", b, " writes positions ", first, "..",
                 first + t - 1, ", outside the cache's ", cache->capacity(),
                 " positions (the maximum length)");
  }
  auto floats = [](int64_t address) {
    return reinterpret_cast<const float *>(address);
  };
  const int64_t qs[3] = {qs0, qs1, qs2};
  float *result = reinterpret_cast<float *>(out);
  // The new keys and values first, then every (sequence, head) attends.
  // A layer's capacity x d block of keys is laid out by head, each head's
  // keys transposed ([heads, dh, capacity]: the scores of consecutive keys
  // are one vector), its values by head too ([heads, capacity, dh]), with
  // the layer's own heads.
  int64_t items = batch * heads, dh = d / heads;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < t; ++i) {
      int64_t position = starts[b * startStride] + i;
      for (int64_t h = 0; h < heads; ++h) {
        int64_t head = h * cache->capacity() * dh;
        float *key = cache->keys(layer, b) + head + position,
              *value = cache->values(layer, b) + head + position * dh;
        for (int64_t c = 0; c < dh; ++c) {
          int64_t column = h * dh + c;
          key[c * cache->capacity()] =
              floats(k)[b * ks0 + i * ks1 + column * ks2];
          value[c] = floats(v)[b * vs0 + i * vs1 + column * vs2];
        }
      }
    }
  bool ok = true;
  bool parallel = items > 1 && omp_get_max_threads() > 1;
#pragma omp parallel for schedule(static) if (parallel) reduction(&& : ok)
  for (int64_t item = 0; item < items; ++item) {
    int64_t b = item / heads, h = item % heads;
    ok = attendHead(*cache, layer, b, h, dh, t, starts[b * startStride],
                    static_cast<float>(scale), floats(q), qs, result) &&
         ok;
  }
  if (!ok)
    recordCpuKernelError("uoe_kv_attend: out of memory for the scores",
                         StatusCode::Unavailable);
}
