//===- ByteCorpus.cpp - byte-level training text and its batches ----------===//
//
// The generator is xoshiro256** as published by its authors (public
// domain reference code at prng.di.unimi.it), seeded by splitmix64 as they
// recommend; `below` is Lemire's nearly-divisionless bounded integer
// ("Fast random integer generation in an interval", 2019), exact for every
// bound.
//
//===----------------------------------------------------------------------===//

#include "train/ByteCorpus.h"

#include "support/FileUtil.h"

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace uoe::train {

using namespace ::uoe::rt;

namespace {

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/// Parses a whole decimal or hex (base 16) unsigned number.
bool parseUnsigned(std::string_view text, int base, uint64_t &value) {
  if (text.empty() || text.size() > 20)
    return false;
  std::string copy(text);
  char *end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(copy.c_str(), &end, base);
  if (errno != 0 || end != copy.c_str() + copy.size() || copy[0] == '-' ||
      copy[0] == '+' || copy[0] == ' ')
    return false;
  value = v;
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// Rng
//===----------------------------------------------------------------------===//

Rng::Rng(uint64_t seed) {
  for (uint64_t &word : state_)
    word = splitmix64(seed);
}

uint64_t Rng::next() {
  uint64_t *s = state_.data();
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t bound) {
  if (bound == 0)
    return 0;
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

std::string Rng::toString() const {
  std::string text = "xoshiro256ss";
  for (uint64_t word : state_) {
    char buffer[24];
    std::snprintf(buffer, sizeof(buffer), ":%016" PRIx64, word);
    text += buffer;
  }
  return text;
}

StatusOr<Rng> Rng::parse(std::string_view text) {
  std::string_view prefix = "xoshiro256ss:";
  auto bad = [&](std::string_view why) {
    return invalidArgumentError(
        strCat("random generator state '", text, "': ", why));
  };
  if (text.substr(0, prefix.size()) != prefix)
    return bad("does not start with 'xoshiro256ss:'");
  std::string_view rest = text.substr(prefix.size());
  Rng rng;
  for (int i = 0; i < 4; ++i) {
    size_t colon = rest.find(':');
    std::string_view word = rest.substr(0, colon);
    if (word.size() != 16 || !parseUnsigned(word, 16, rng.state_[i]))
      return bad(strCat("word ", i, " is not 16 hex digits"));
    if ((i < 3) != (colon != std::string_view::npos))
      return bad("needs exactly four words");
    rest = colon == std::string_view::npos ? std::string_view()
                                           : rest.substr(colon + 1);
  }
  if (rng.state_ == std::array<uint64_t, 4>{})
    return bad("the all-zero state is not a valid xoshiro state");
  return rng;
}

//===----------------------------------------------------------------------===//
// ByteCorpus
//===----------------------------------------------------------------------===//

StatusOr<ByteCorpus> ByteCorpus::load(const std::string &path,
                                      double validationFraction) {
  UOE_ASSIGN_OR_RETURN(std::string bytes, readFile(path));
  return fromBytes(std::move(bytes), validationFraction, path);
}

StatusOr<ByteCorpus> ByteCorpus::fromBytes(std::string bytes,
                                           double validationFraction,
                                           std::string source) {
  if (!(validationFraction >= 0.0 && validationFraction < 1.0))
    return invalidArgumentError(
        strCat("the validation fraction must lie in [0, 1), got ",
               validationFraction));
  if (bytes.empty())
    return invalidArgumentError(
        strCat(source, ": the corpus is empty (0 bytes)"));
  ByteCorpus corpus;
  uint64_t validation = static_cast<uint64_t>(
      static_cast<double>(bytes.size()) * validationFraction);
  corpus.trainSize_ = bytes.size() - validation;
  corpus.bytes_ = std::move(bytes);
  corpus.source_ = std::move(source);
  return corpus;
}

std::string ByteCorpus::fingerprint() const {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes_) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  char buffer[20];
  std::snprintf(buffer, sizeof(buffer), "%016" PRIx64, hash);
  return buffer;
}

//===----------------------------------------------------------------------===//
// Batches
//===----------------------------------------------------------------------===//

StatusOr<TokenBatch> batchFromWindows(std::string_view bytes,
                                      const std::vector<uint64_t> &starts,
                                      int64_t seq) {
  int64_t rows = static_cast<int64_t>(starts.size());
  UOE_ASSIGN_OR_RETURN(HostTensor tokens,
                       HostTensor::createUninitialized(DType::I64, {rows, seq}));
  UOE_ASSIGN_OR_RETURN(HostTensor targets,
                       HostTensor::createUninitialized(DType::I64, {rows, seq}));
  int64_t *in = tokens.data<int64_t>(), *out = targets.data<int64_t>();
  for (int64_t b = 0; b < rows; ++b) {
    uint64_t start = starts[b];
    if (start + static_cast<uint64_t>(seq) + 1 > bytes.size())
      return internalError(strCat("window at ", start, " of ", seq + 1,
                                  " bytes ends past ", bytes.size()));
    const unsigned char *window =
        reinterpret_cast<const unsigned char *>(bytes.data()) + start;
    for (int64_t t = 0; t < seq; ++t) {
      in[b * seq + t] = window[t];
      out[b * seq + t] = window[t + 1];
    }
  }
  return TokenBatch{std::move(tokens), std::move(targets)};
}

StatusOr<BatchSampler> BatchSampler::create(const ByteCorpus &corpus,
                                            int64_t batch, int64_t seq,
                                            uint64_t seed) {
  if (batch <= 0 || seq <= 0)
    return invalidArgumentError(strCat("batch (", batch, ") and sequence (",
                                       seq, ") must be positive"));
  if (corpus.train().size() < static_cast<uint64_t>(seq) + 1)
    return invalidArgumentError(strCat(
        corpus.source(), ": the training part has ", corpus.train().size(),
        " bytes, fewer than one window of seq + 1 = ", seq + 1, " bytes"));
  return BatchSampler(corpus, batch, seq, seed);
}

StatusOr<TokenBatch> BatchSampler::next() {
  // Windows start anywhere in [0, size - seq - 1].
  uint64_t positions = corpus_->train().size() - static_cast<uint64_t>(seq_);
  std::vector<uint64_t> starts(batch_);
  for (uint64_t &start : starts)
    start = rng_.below(positions);
  ++drawn_;
  return batchFromWindows(corpus_->train(), starts, seq_);
}

std::string BatchSampler::state() const {
  return strCat("batches=", drawn_, ";rng=", rng_.toString());
}

Status BatchSampler::restore(std::string_view state) {
  auto bad = [&](std::string_view why) {
    return invalidArgumentError(strCat("sampler state '", state, "': ", why));
  };
  std::string_view batches = "batches=", rng = ";rng=";
  if (state.substr(0, batches.size()) != batches)
    return bad("does not start with 'batches='");
  size_t sep = state.find(rng);
  if (sep == std::string_view::npos)
    return bad("has no ';rng='");
  uint64_t drawn;
  if (!parseUnsigned(state.substr(batches.size(), sep - batches.size()), 10,
                     drawn) ||
      drawn > static_cast<uint64_t>(INT64_MAX))
    return bad("the batch count is not a non-negative integer");
  StatusOr<Rng> parsed = Rng::parse(state.substr(sep + rng.size()));
  if (!parsed.ok())
    return parsed.status();
  rng_ = *parsed;
  drawn_ = static_cast<int64_t>(drawn);
  return okStatus();
}

StatusOr<std::vector<TokenBatch>> validationBatches(const ByteCorpus &corpus,
                                                    int64_t batch, int64_t seq,
                                                    int64_t count) {
  if (batch <= 0 || seq <= 0 || count <= 0)
    return invalidArgumentError(strCat("batch (", batch, "), sequence (", seq,
                                       ") and batch count (", count,
                                       ") must be positive"));
  std::string_view part = corpus.validation();
  if (part.size() < static_cast<uint64_t>(seq) + 1)
    return invalidArgumentError(strCat(
        corpus.source(), ": the validation part has ", part.size(),
        " bytes, fewer than one window of seq + 1 = ", seq + 1,
        " bytes (raise the validation fraction or use a longer text)"));
  uint64_t last = part.size() - static_cast<uint64_t>(seq) - 1;
  uint64_t windows = static_cast<uint64_t>(count * batch);
  uint64_t gaps = windows > 1 ? windows - 1 : 1;
  std::vector<TokenBatch> batches;
  for (int64_t k = 0; k < count; ++k) {
    std::vector<uint64_t> starts(batch);
    for (int64_t b = 0; b < batch; ++b) {
      uint64_t i = static_cast<uint64_t>(k * batch + b);
      starts[b] = static_cast<uint64_t>(
          (static_cast<unsigned __int128>(i) * last) / gaps);
    }
    UOE_ASSIGN_OR_RETURN(TokenBatch one, batchFromWindows(part, starts, seq));
    batches.push_back(std::move(one));
  }
  return batches;
}

} // namespace uoe::train
