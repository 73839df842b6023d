//===- E2eTestUtil.cpp - shared pieces of the end-to-end tests -----------===//
//
// See E2eTestUtil.h.
//
//===----------------------------------------------------------------------===//

#include "E2eTestUtil.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>

namespace uoe::e2e {

std::string tensorType(const std::vector<int64_t> &shape,
                       const std::string &element) {
  std::string text = "tensor<";
  for (int64_t dim : shape)
    text += (dim < 0 ? std::string("?") : std::to_string(dim)) + "x";
  return text + element + ">";
}

std::string fill(std::string text,
                 const std::map<std::string, std::string> &vars) {
  for (const auto &[name, value] : vars) {
    std::string key = "${" + name + "}";
    for (size_t at = text.find(key); at != std::string::npos;
         at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  }
  EXPECT_EQ(text.find("${"), std::string::npos) << "unfilled template:\n"
                                                 << text;
  return text;
}

ref::Tensor randomF32(std::vector<int64_t> shape, uint64_t seed,
                      double scale) {
  ref::Tensor t = ref::randomTensor(std::move(shape), seed, scale);
  for (double &v : t.data)
    v = static_cast<double>(static_cast<float>(v));
  return t;
}

rt::NamedTensors randomModelWeights(const ::uoe::model::Model &model,
                                    uint64_t seed) {
  rt::NamedTensors named;
  uint64_t k = 0;
  for (const mlir::uoe::ParamSpec &p : mlir::uoe::modelParameters(model)) {
    bool gain = p.name.find("norm") != std::string::npos && p.name.size() > 7 &&
                p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
    ref::Tensor t = randomF32(p.shape, subSeed(seed, ++k), gain ? 0.2 : 0.5);
    if (gain)
      for (double &v : t.data)
        v += 1.0;
    HostBuffer b = toBuffer(t);
    auto host = rt::HostTensor::fromVector(rt::DType::F32, b.shape, b.f32);
    EXPECT_TRUE(host.ok());
    if (host.ok())
      named.emplace(p.name, std::move(*host));
  }
  return named;
}

ref::Tensor uniformF32(std::vector<int64_t> shape, uint64_t seed, double lo,
                       double hi) {
  ref::Tensor t = ref::randomTensor(std::move(shape), seed, 1.0);
  for (double &v : t.data)
    v = static_cast<double>(
        static_cast<float>(lo + (v + 1.0) * 0.5 * (hi - lo)));
  return t;
}

ref::Tensor quantizedScores(std::vector<int64_t> shape, uint64_t seed,
                            int levels) {
  ref::Tensor t = ref::randomTensor(std::move(shape), seed, 1.0);
  for (double &v : t.data) {
    // [-1, 1) -> k in [0, levels).
    int k = std::min(levels - 1, static_cast<int>((v + 1.0) * 0.5 * levels));
    v = k / 8.0;
  }
  return t;
}

ref::Tensor randomWeight(std::vector<int64_t> shape, uint64_t seed,
                         int64_t fanIn) {
  return randomF32(std::move(shape), seed,
                   2.0 / std::sqrt(static_cast<double>(fanIn)));
}

std::vector<HostBuffer>
ExpertLayerWeights::buffers(const ref::Tensor &x) const {
  return {toBuffer(x),  toBuffer(wg), toBuffer(bg), toBuffer(w1),
          toBuffer(b1), toBuffer(w2), toBuffer(b2)};
}

ExpertLayerWeights randomExpertWeights(int64_t e, int64_t d, int64_t fe,
                                       int64_t f1, uint64_t seed) {
  ExpertLayerWeights w;
  w.wg = randomWeight({e, d}, subSeed(seed, 1), d / 4);
  w.bg = randomF32({e}, subSeed(seed, 2), 0.5);
  w.w1 = randomWeight({e, d, f1}, subSeed(seed, 3), d);
  w.b1 = randomF32({e, f1}, subSeed(seed, 4), 0.5);
  w.w2 = randomWeight({e, fe, d}, subSeed(seed, 5), fe);
  w.b2 = randomF32({e, d}, subSeed(seed, 6), 0.5);
  return w;
}

ref::Tensor randomPadding(int64_t b, int64_t t, uint64_t seed, double below) {
  ref::Tensor mask = ref::randomTensor({b, t}, seed);
  for (double &v : mask.data)
    v = v < below ? 1.0 : 0.0;
  return mask;
}

ref::Tensor sliceFirst(const ref::Tensor &t, int64_t i) {
  ref::Tensor out(std::vector<int64_t>(t.shape.begin() + 1, t.shape.end()));
  int64_t size = out.numel();
  std::copy(t.data.begin() + i * size, t.data.begin() + (i + 1) * size,
            out.data.begin());
  return out;
}

ref::Tensor stack(const std::vector<ref::Tensor> &parts) {
  std::vector<int64_t> shape{static_cast<int64_t>(parts.size())};
  shape.insert(shape.end(), parts[0].shape.begin(), parts[0].shape.end());
  ref::Tensor out(shape);
  size_t at = 0;
  for (const ref::Tensor &p : parts) {
    EXPECT_EQ(p.shape, parts[0].shape);
    std::copy(p.data.begin(), p.data.end(), out.data.begin() + at);
    at += p.data.size();
  }
  return out;
}

ref::Tensor swapFirstTwo(const ref::Tensor &t) {
  std::vector<int64_t> shape = t.shape;
  std::swap(shape[0], shape[1]);
  ref::Tensor out(shape);
  int64_t a = t.dim(0), b = t.dim(1), inner = t.numel() / (a * b);
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      std::copy(t.data.begin() + (i * b + j) * inner,
                t.data.begin() + (i * b + j + 1) * inner,
                out.data.begin() + (j * a + i) * inner);
  return out;
}

QkvWeights splitQkv(const ref::Tensor &wqkv, const ref::Tensor &bqkv) {
  return {sliceFirst(wqkv, 0), sliceFirst(wqkv, 1), sliceFirst(wqkv, 2),
          sliceFirst(bqkv, 0), sliceFirst(bqkv, 1), sliceFirst(bqkv, 2)};
}

HostBuffer toBuffer(const ref::Tensor &t) {
  std::vector<float> v(t.data.size());
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(t.data[i]);
  return HostBuffer::ofF32(t.shape, std::move(v));
}

HostBuffer toBuffer(const ref::IndexTensor &t) {
  return HostBuffer::ofI64(t.shape, t.data);
}

HostBuffer toMask(const ref::Tensor &t) {
  std::vector<uint8_t> v(t.data.size());
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = t.data[i] != 0.0 ? 1 : 0;
  return HostBuffer::ofI1(t.shape, std::move(v));
}

ref::Tensor toTensor(const HostBuffer &b) {
  EXPECT_EQ(b.kind, ElementKind::F32);
  std::vector<double> v(b.f32.begin(), b.f32.end());
  return ref::Tensor(b.shape, std::move(v));
}

ref::IndexTensor toIndexTensor(const HostBuffer &b) {
  EXPECT_EQ(b.kind, ElementKind::I64);
  return ref::IndexTensor(b.shape, b.i64);
}

/// "[1, 2, 3]" of a flat index in `shape`.
static std::string indexString(int64_t flat,
                               const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return ref::shapeToString(index);
}

/// Fails unless `got` holds `kind` (named `kindName` in the message) and
/// has the shape `shape`.
static ::testing::AssertionResult
sameKindAndShape(const HostBuffer &got, ElementKind kind, const char *kindName,
                 const std::vector<int64_t> &shape) {
  if (got.kind != kind)
    return ::testing::AssertionFailure() << "result is not " << kindName;
  if (got.shape != shape)
    return ::testing::AssertionFailure()
           << "shape " << ref::shapeToString(got.shape) << ", expected "
           << ref::shapeToString(shape);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult allClose(const HostBuffer &got,
                                    const ref::Tensor &want, double relTol) {
  if (::testing::AssertionResult same =
          sameKindAndShape(got, ElementKind::F32, "f32", want.shape);
      !same)
    return same;
  double scale = 1.0;
  for (double v : want.data)
    scale = std::max(scale, std::fabs(v));
  double worst = 0.0;
  int64_t worstAt = -1;
  for (size_t i = 0; i < want.data.size(); ++i) {
    double diff = std::fabs(static_cast<double>(got.f32[i]) - want.data[i]);
    if (!std::isfinite(diff)) {
      worst = std::numeric_limits<double>::infinity();
      worstAt = static_cast<int64_t>(i);
      break;
    }
    if (diff > worst) {
      worst = diff;
      worstAt = static_cast<int64_t>(i);
    }
  }
  if (worst <= relTol * scale)
    return ::testing::AssertionSuccess();
  std::ostringstream os;
  os.precision(9);
  os << "max |got - want| = " << worst << " > " << relTol << " * " << scale
     << " at " << indexString(worstAt, want.shape) << ": got "
     << got.f32[worstAt] << ", want " << want.data[worstAt];
  return ::testing::AssertionFailure() << os.str();
}

::testing::AssertionResult allEqual(const HostBuffer &got,
                                    const ref::IndexTensor &want) {
  if (::testing::AssertionResult same =
          sameKindAndShape(got, ElementKind::I64, "i64", want.shape);
      !same)
    return same;
  for (size_t i = 0; i < want.data.size(); ++i)
    if (got.i64[i] != want.data[i])
      return ::testing::AssertionFailure()
             << "at " << indexString(static_cast<int64_t>(i), want.shape)
             << ": got " << got.i64[i] << ", want " << want.data[i];
  return ::testing::AssertionSuccess();
}

double topKMargin(const double *row, int64_t n, int64_t k) {
  if (k <= 0 || k >= n)
    return std::numeric_limits<double>::infinity();
  std::vector<double> sorted(row, row + n);
  std::sort(sorted.begin(), sorted.end(), std::greater<double>());
  double a = sorted[static_cast<size_t>(k - 1)],
         b = sorted[static_cast<size_t>(k)];
  if (a == 0.0 && b == 0.0)
    return std::numeric_limits<double>::infinity();
  return (a - b) / std::max(std::fabs(a), std::fabs(b));
}

double routingMargin(const ref::Tensor &x, const ref::Tensor &wg,
                     const ref::Tensor &bg, ref::RouterScore score,
                     int64_t kTok, double eps, double normCapacity,
                     int64_t patch, std::optional<double> capacity) {
  ref::Tensor p = ref::router(x, wg, bg, score);
  int64_t e = p.dim(-1);
  double margin = std::numeric_limits<double>::infinity();
  for (int64_t r = 0; r < p.numel() / e; ++r)
    margin = std::min(margin, topKMargin(p.data.data() + r * e, e, kTok));
  ref::Tensor g = ref::normalizeScores(ref::tokenChoice(p, kTok), 0, eps,
                                       normCapacity);
  int64_t rows = g.dim(0), n = g.dim(1), np = n / patch;
  std::vector<std::vector<double>> patchScores;
  int64_t length = 0;
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<double> ps(static_cast<size_t>(np));
      int64_t positive = 0;
      for (int64_t j = 0; j < np; ++j) {
        double sum = 0.0;
        for (int64_t t = 0; t < patch; ++t)
          sum += g.at(r, j * patch + t, ex);
        ps[static_cast<size_t>(j)] = sum / static_cast<double>(patch);
        positive += ps[static_cast<size_t>(j)] > 0.0;
      }
      length = std::max(length, positive);
      patchScores.push_back(std::move(ps));
    }
  if (capacity)
    length = static_cast<int64_t>(std::floor(*capacity * np));
  for (const std::vector<double> &ps : patchScores)
    margin = std::min(margin, topKMargin(ps.data(), np, length));
  return margin;
}

std::unique_ptr<CompiledFunction>
compileOrFail(const std::string &source, const std::string &name,
              std::optional<unsigned> optLevel) {
  std::string error;
  mlir::uoe::cpu::ObjectOptions options;
  if (optLevel)
    options.optLevel = *optLevel;
  std::unique_ptr<CompiledFunction> fn =
      compileFunction(source, name, &error, options);
  EXPECT_TRUE(fn) << error << "\nsource:\n" << source;
  return fn;
}

std::vector<HostBuffer> callOrFail(CompiledFunction &fn,
                                   std::vector<HostBuffer> args) {
  std::string error;
  std::vector<HostBuffer> results = fn.call(args, &error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(results.size(), fn.results().size());
  return results;
}

} // namespace uoe::e2e

namespace uoe::e2e {

void forSeeds(const std::function<bool(uint64_t seed)> &run) {
  int ran = 0;
  for (uint64_t seed = 1; seed <= kMaxSeed && ran < kSeedCount; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    if (run(seed))
      ++ran;
    if (::testing::Test::HasFatalFailure() || ::testing::Test::HasFailure())
      return;
  }
  EXPECT_EQ(ran, kSeedCount) << "too few seeds without near-ties in the first "
                             << kMaxSeed;
}

} // namespace uoe::e2e
