//===- ByteCorpus.h - byte-level training text and its batches --*- C++ -*-===//
//
// The data side of byte-level language-model training (`uoe-run train`):
// a text file read as bytes (token ids 0..255), split into a training part
// and a validation part (the last fraction of the file), and batches of
// windows of T + 1 bytes: the first T bytes are the inputs, the last T the
// targets (the inputs shifted by one).
//
// Training batches are drawn at random positions by a small seeded
// generator (xoshiro256**) whose whole state is four 64-bit words, so that
// a checkpoint can store it as a short string and a resumed run draws
// exactly the batches the uninterrupted run would have drawn. Validation
// batches are fixed: evenly spaced windows over the validation part, the
// same at every evaluation, so that validation losses are comparable.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TRAIN_BYTECORPUS_H
#define UOE_TRAIN_BYTECORPUS_H

#include "support/HostTensor.h"
#include "support/Status.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace uoe::train {

using rt::Status;
using rt::StatusOr;
using rt::HostTensor;


/// xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64. A
/// value type; its whole state is `state()`. Not thread-safe (distinct
/// objects may be used from distinct threads).
class Rng {
public:
  /// The generator whose state is four successive splitmix64 outputs from
  /// `seed` (never all zero).
  explicit Rng(uint64_t seed);

  /// The next 64 random bits.
  uint64_t next();
  /// A uniform integer in [0, bound); `bound` must be positive (0 gives 0).
  /// Exact (Lemire's multiply-and-reject), so it consumes a variable number
  /// of outputs.
  uint64_t below(uint64_t bound);

  std::array<uint64_t, 4> state() const { return state_; }
  /// "xoshiro256ss:" and the four state words as 16 hex digits each,
  /// separated by ':'.
  std::string toString() const;
  /// The generator `toString()` printed; InvalidArgument naming the problem
  /// for any other text, including the all-zero state (a fixed point).
  static StatusOr<Rng> parse(std::string_view text);

  bool operator==(const Rng &other) const { return state_ == other.state_; }

private:
  Rng() = default;
  std::array<uint64_t, 4> state_{};
};

/// A text read as bytes, split into training and validation parts. Owns
/// the bytes; move-only by convention (copying is allowed but large).
class ByteCorpus {
public:
  /// Reads `path` and keeps its last floor(size * validationFraction) bytes
  /// for validation. NotFound / IoError from reading, InvalidArgument for an
  /// empty file or a fraction outside [0, 1). Messages name the file.
  static StatusOr<ByteCorpus> load(const std::string &path,
                                   double validationFraction);
  /// The same for bytes in memory; `source` names them in messages.
  static StatusOr<ByteCorpus> fromBytes(std::string bytes,
                                        double validationFraction,
                                        std::string source);

  std::string_view train() const {
    return std::string_view(bytes_).substr(0, trainSize_);
  }
  std::string_view validation() const {
    return std::string_view(bytes_).substr(trainSize_);
  }
  uint64_t size() const { return bytes_.size(); }
  /// The file (or `source`) the bytes came from.
  const std::string &source() const { return source_; }
  /// FNV-1a (64 bits) of all the bytes, as 16 hex digits: a checkpoint
  /// records it so that resuming on another text is noticed.
  std::string fingerprint() const;

private:
  ByteCorpus() = default;
  std::string bytes_;
  uint64_t trainSize_ = 0;
  std::string source_;
};

/// One batch: token ids and targets, both i64 [batch, seq].
struct TokenBatch {
  HostTensor tokens;
  HostTensor targets;
};

/// Draws training batches of `batch` windows of `seq + 1` bytes at uniform
/// random offsets of the training part (with replacement; windows may
/// overlap). Keeps a pointer to the corpus, which must outlive it.
class BatchSampler {
public:
  /// InvalidArgument if batch or seq is not positive, or if the training
  /// part is shorter than seq + 1 bytes (the message names the corpus and
  /// both numbers).
  static StatusOr<BatchSampler> create(const ByteCorpus &corpus, int64_t batch,
                                       int64_t seq, uint64_t seed);

  /// The next batch; every call advances the generator.
  StatusOr<TokenBatch> next();

  /// The number of batches drawn so far (since the seed).
  int64_t batchesDrawn() const { return drawn_; }
  /// Everything needed to continue the same sequence of batches:
  /// "batches=<n>;rng=<Rng::toString()>".
  std::string state() const;
  /// Continues from a `state()` string; InvalidArgument for a malformed
  /// one (the sampler is then unchanged).
  Status restore(std::string_view state);

private:
  BatchSampler(const ByteCorpus &corpus, int64_t batch, int64_t seq,
               uint64_t seed)
      : corpus_(&corpus), batch_(batch), seq_(seq), rng_(seed) {}
  const ByteCorpus *corpus_;
  int64_t batch_, seq_;
  Rng rng_;
  int64_t drawn_ = 0;
};

/// `count` batches of evenly spaced windows over the validation part (the
/// same every call): window i of the count * batch windows starts at
/// floor(i * (size - seq - 1) / max(1, count * batch - 1)).
/// InvalidArgument if the validation part is shorter than seq + 1 bytes
/// (naming the corpus, the part's size and the fraction to raise) or if a
/// size is not positive.
StatusOr<std::vector<TokenBatch>> validationBatches(const ByteCorpus &corpus,
                                                    int64_t batch, int64_t seq,
                                                    int64_t count);

/// The batch of the windows starting at `starts` (one per row) in `bytes`;
/// every start + seq + 1 must lie within `bytes`.
StatusOr<TokenBatch> batchFromWindows(std::string_view bytes,
                                      const std::vector<uint64_t> &starts,
                                      int64_t seq);

} // namespace uoe::train

#endif // UOE_TRAIN_BYTECORPUS_H
