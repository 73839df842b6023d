//===- TrainLog.h - training progress, metrics.csv and loss plot -*- C++ -*-===//
//
// What a training run reports, independent of how the steps are computed:
//   - the progress line: a bar with the step, loss, tokens/s and ETA for a
//     terminal (redrawn in place with a carriage return), or a plain log
//     line otherwise;
//   - `metrics.csv`: one row per step with the columns of kMetricsCsvHeader
//     (validation columns empty on steps without an evaluation);
//   - `loss.svg`: the training and validation loss curves against the step,
//     with axes, ticks and a legend, as a self-contained SVG 1.1 document.
//
// Losses are mean cross-entropies in nats per token; for byte-level models
// a token is a byte, so perplexity is exp(loss) and bits per byte is
// loss / ln 2.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TRAIN_TRAINLOG_H
#define UOE_TRAIN_TRAINLOG_H

#include "support/Status.h"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uoe::train {

using rt::Status;
using rt::StatusOr;


/// The first line of metrics.csv.
inline constexpr const char *kMetricsCsvHeader =
    "step,train_loss,val_loss,val_ppl,val_bpb,lr,grad_norm,tokens_per_s,"
    "elapsed_s";

/// exp(loss).
double perplexity(double loss);
/// loss / ln 2: bits per token (per byte for a byte-level model).
double bitsPerByte(double loss);

/// One step's numbers.
struct MetricsRow {
  int64_t step = 0;
  double trainLoss = 0;
  /// Set on steps with an evaluation.
  std::optional<double> valLoss;
  double lr = 0;
  double gradNorm = 0;
  double tokensPerSecond = 0;
  /// Training time since the start of the run (resumes included).
  double elapsedSeconds = 0;
};

/// The CSV line of `row` (no newline); val_ppl and val_bpb are computed from
/// val_loss, all three empty without one.
std::string formatMetricsRow(const MetricsRow &row);

/// Parses metrics.csv text (header first, as kMetricsCsvHeader). DataLoss
/// naming `source` and the line for a wrong header, a wrong number of
/// columns or a field that is not a number.
StatusOr<std::vector<MetricsRow>> parseMetricsCsv(std::string_view text,
                                                  const std::string &source);

/// Appends rows to a metrics.csv file, flushing each line (a killed run
/// keeps every row written). Move-only; closes the file on destruction.
class MetricsCsvWriter {
public:
  /// Opens `path`. With `resumeStep` < 0 the file is started afresh (header
  /// only). Otherwise the rows of an existing file with step <= resumeStep
  /// are kept (the rows a killed run wrote after its last checkpoint are
  /// dropped; the file is rewritten atomically first) and `rows()` returns
  /// them; a missing or unreadable file starts afresh.
  static StatusOr<MetricsCsvWriter> open(const std::string &path,
                                         int64_t resumeStep);

  MetricsCsvWriter(MetricsCsvWriter &&other) noexcept;
  MetricsCsvWriter &operator=(MetricsCsvWriter &&other) noexcept;
  MetricsCsvWriter(const MetricsCsvWriter &) = delete;
  MetricsCsvWriter &operator=(const MetricsCsvWriter &) = delete;
  ~MetricsCsvWriter();

  /// Appends one line and flushes it; IoError naming the file.
  Status append(const MetricsRow &row);
  /// Every row of the file: kept ones and appended ones.
  const std::vector<MetricsRow> &rows() const { return rows_; }
  const std::string &path() const { return path_; }

private:
  MetricsCsvWriter() = default;
  std::string path_;
  std::FILE *file_ = nullptr;
  std::vector<MetricsRow> rows_;
};

/// An SVG document plotting the training loss of every row and the
/// validation loss of rows that have one, against the step: axes with
/// "nice" ticks and grid lines, axis labels, `title` at the top (escaped)
/// and a legend. Long runs are averaged into at most 1000 points per curve.
/// Rows without a finite loss are skipped; no rows give empty axes.
std::string renderLossCurveSvg(const std::vector<MetricsRow> &rows,
                               std::string_view title);

/// "0.08s", "1.4s" (hundredths under 1 s, tenths under 10 s), "45s", "3m05s", "2h07m" (rounded down;
/// negative or NaN: "?").
std::string formatDuration(double seconds);

/// "950", "12.3k", "4.56M" (tokens per second and the like).
std::string formatCount(double value);

/// What the progress line shows.
struct ProgressInfo {
  int64_t step = 0;
  int64_t totalSteps = 0;
  double loss = 0;
  double lr = 0;
  double tokensPerSecond = 0;
  double etaSeconds = 0;
};

/// The terminal form, without carriage return:
/// "step 120/1000 [###.......] 12% loss 2.3456 lr 1.00e-03 12.3k tok/s ETA 1m23s",
/// the bar `barWidth` characters wide.
std::string formatProgressBar(const ProgressInfo &info, int barWidth = 24);
/// The terminal form fitted to a terminal `columns` wide: the bar shrinks
/// (to 24 characters at most), then goes, and the line is cut last, so that
/// the result is at most columns - 1 characters (never wraps).
std::string fitProgressBar(const ProgressInfo &info, int columns);
/// The log-file form: "step 120/1000 loss 2.3456 lr 1.00e-03 12.3k tok/s
/// ETA 1m23s".
std::string formatProgressLine(const ProgressInfo &info);

} // namespace uoe::train

#endif // UOE_TRAIN_TRAINLOG_H
