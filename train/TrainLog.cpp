//===- TrainLog.cpp - training progress, metrics.csv and loss plot --------===//
//
// The SVG is written by hand (no plotting library in the runtime): a plot
// area with axes from "nice" tick steps (1, 2, 2.5 or 5 times a power of
// ten, Heckbert's rule), light grid lines, a polyline per curve and a
// legend. Coordinates are printed with one decimal, enough for a screen
// and small files.
//
//===----------------------------------------------------------------------===//

#include "train/TrainLog.h"

#include "support/FileUtil.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace uoe::train {

using namespace ::uoe::rt;

namespace {

std::string format(const char *fmt, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), fmt, value);
  return buffer;
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos)
      return fields;
    start = comma + 1;
  }
}

bool parseDouble(std::string_view field, double &value) {
  if (field.empty() || field.size() > 64)
    return false;
  std::string copy(field);
  char *end = nullptr;
  errno = 0;
  value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && errno != ERANGE;
}

/// Parses one data line; false (with `why`) if it is malformed.
bool parseRow(std::string_view line, MetricsRow &row, std::string &why) {
  std::vector<std::string_view> fields = splitFields(line);
  if (fields.size() != 9) {
    why = strCat(fields.size(), " columns, expected 9");
    return false;
  }
  double values[9];
  for (int i = 0; i < 9; ++i) {
    bool optional = i >= 2 && i <= 4; // the validation columns
    if (optional && fields[i].empty()) {
      values[i] = NAN;
      continue;
    }
    if (!parseDouble(fields[i], values[i])) {
      why = strCat("column ", i + 1, " '", fields[i], "' is not a number");
      return false;
    }
  }
  if (!(values[0] >= 0 && values[0] < 9.2e18) ||
      values[0] != std::floor(values[0])) {
    why = strCat("step '", fields[0], "' is not a non-negative integer");
    return false;
  }
  row = MetricsRow();
  row.step = static_cast<int64_t>(values[0]);
  row.trainLoss = values[1];
  if (!fields[2].empty())
    row.valLoss = values[2];
  row.lr = values[5];
  row.gradNorm = values[6];
  row.tokensPerSecond = values[7];
  row.elapsedSeconds = values[8];
  return true;
}

/// The lines of `text`, without line ends; a last line without a newline
/// is reported through `partialLast`.
std::vector<std::string_view> splitLines(std::string_view text,
                                         bool &partialLast) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  partialLast = false;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      partialLast = true;
      lines.push_back(text.substr(start));
      break;
    }
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

//===----------------------------------------------------------------------===//
// SVG helpers
//===----------------------------------------------------------------------===//

std::string escapeXml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default:
      // Control characters are not allowed in XML 1.0.
      if (static_cast<unsigned char>(c) >= 0x20 || c == '\t')
        out += c;
    }
  }
  return out;
}

/// A tick step of about range / maxTicks: 1, 2, 2.5 or 5 times 10^k.
double niceStep(double range, int maxTicks) {
  double raw = range / maxTicks;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double normalised = raw / magnitude;
  double nice = normalised <= 1    ? 1
                : normalised <= 2  ? 2
                : normalised <= 2.5 ? 2.5
                : normalised <= 5  ? 5
                                   : 10;
  return nice * magnitude;
}

/// An axis: [lo, hi] widened to whole tick steps.
struct Axis {
  double lo = 0, hi = 1, step = 1;
  int decimals = 0;

  Axis(double min, double max, int maxTicks) {
    if (!(std::isfinite(min) && std::isfinite(max))) {
      min = 0;
      max = 1;
    }
    if (max - min < 1e-12 * std::max(1.0, std::fabs(max))) {
      double pad = std::max(1e-3, std::fabs(max) * 0.05);
      min -= pad;
      max += pad;
    }
    step = niceStep(max - min, maxTicks);
    lo = std::floor(min / step) * step;
    hi = std::ceil(max / step) * step;
    double digits = -std::floor(std::log10(step) + 1e-9);
    decimals = static_cast<int>(std::max(0.0, digits));
    if (std::fabs(step / std::pow(10.0, -decimals) -
                  std::round(step / std::pow(10.0, -decimals))) > 1e-6)
      ++decimals; // 2.5 x 10^k
  }
  std::vector<double> ticks() const {
    std::vector<double> values;
    for (int i = 0; lo + i * step <= hi + step * 1e-6 && i < 100; ++i)
      values.push_back(lo + i * step);
    return values;
  }
  std::string label(double value) const {
    char buffer[64];
    if (std::fabs(value) < step * 1e-9)
      value = 0; // no "-0.0"
    std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
    return buffer;
  }
};

/// At most `limit` points: consecutive runs of points averaged.
std::vector<std::pair<double, double>>
downsample(const std::vector<std::pair<double, double>> &points,
           size_t limit) {
  if (points.size() <= limit)
    return points;
  std::vector<std::pair<double, double>> out;
  for (size_t bucket = 0; bucket < limit; ++bucket) {
    size_t begin = bucket * points.size() / limit,
           end = (bucket + 1) * points.size() / limit;
    double x = 0, y = 0;
    for (size_t i = begin; i < end; ++i) {
      x += points[i].first;
      y += points[i].second;
    }
    out.push_back({x / (end - begin), y / (end - begin)});
  }
  return out;
}

} // namespace

double perplexity(double loss) { return std::exp(loss); }
double bitsPerByte(double loss) { return loss / std::log(2.0); }

std::string formatMetricsRow(const MetricsRow &row) {
  std::string line = strCat(row.step, ",", format("%.6f", row.trainLoss), ",");
  if (row.valLoss)
    line += format("%.6f", *row.valLoss) + "," +
            format("%.4f", perplexity(*row.valLoss)) + "," +
            format("%.6f", bitsPerByte(*row.valLoss));
  else
    line += ",,";
  line += "," + format("%.6g", row.lr) + "," + format("%.6g", row.gradNorm) +
          "," + format("%.1f", row.tokensPerSecond) + "," +
          format("%.3f", row.elapsedSeconds);
  return line;
}

StatusOr<std::vector<MetricsRow>> parseMetricsCsv(std::string_view text,
                                                  const std::string &source) {
  bool partialLast;
  std::vector<std::string_view> lines = splitLines(text, partialLast);
  if (lines.empty() || lines.front() != kMetricsCsvHeader)
    return dataLossError(strCat(source, ": line 1 is not the header '",
                                kMetricsCsvHeader, "'"));
  std::vector<MetricsRow> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty())
      continue;
    MetricsRow row;
    std::string why;
    if (!parseRow(lines[i], row, why))
      return dataLossError(strCat(source, ": line ", i + 1, ": ", why));
    rows.push_back(row);
  }
  return rows;
}

//===----------------------------------------------------------------------===//
// MetricsCsvWriter
//===----------------------------------------------------------------------===//

StatusOr<MetricsCsvWriter> MetricsCsvWriter::open(const std::string &path,
                                                  int64_t resumeStep) {
  MetricsCsvWriter writer;
  writer.path_ = path;
  std::string contents = std::string(kMetricsCsvHeader) + "\n";
  if (resumeStep >= 0) {
    // Lenient: a killed run may have left a partial last line, and rows
    // past the checkpoint we resume from are replaced by the new run's.
    StatusOr<std::string> old = readFile(path);
    if (old.ok()) {
      bool partialLast;
      std::vector<std::string_view> lines = splitLines(*old, partialLast);
      if (partialLast)
        lines.pop_back();
      for (size_t i = 1; i < lines.size(); ++i) {
        MetricsRow row;
        std::string why;
        if (lines[i].empty() || !parseRow(lines[i], row, why) ||
            row.step > resumeStep)
          continue;
        writer.rows_.push_back(row);
        contents += formatMetricsRow(row) + "\n";
      }
    }
  }
  UOE_RETURN_IF_ERROR(writeFileAtomically(path, contents));
  writer.file_ = std::fopen(path.c_str(), "a");
  if (!writer.file_)
    return ioError(strCat("cannot open '", path, "' for appending"));
  return writer;
}

MetricsCsvWriter::MetricsCsvWriter(MetricsCsvWriter &&other) noexcept
    : path_(std::move(other.path_)), file_(std::exchange(other.file_, nullptr)),
      rows_(std::move(other.rows_)) {}

MetricsCsvWriter &
MetricsCsvWriter::operator=(MetricsCsvWriter &&other) noexcept {
  if (this != &other) {
    if (file_)
      std::fclose(file_);
    path_ = std::move(other.path_);
    file_ = std::exchange(other.file_, nullptr);
    rows_ = std::move(other.rows_);
  }
  return *this;
}

MetricsCsvWriter::~MetricsCsvWriter() {
  if (file_)
    std::fclose(file_);
}

Status MetricsCsvWriter::append(const MetricsRow &row) {
  if (!file_)
    return failedPreconditionError("metrics.csv writer is not open");
  std::string line = formatMetricsRow(row) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
      std::fflush(file_) != 0)
    return ioError(strCat("cannot append to '", path_, "'"));
  rows_.push_back(row);
  return okStatus();
}

//===----------------------------------------------------------------------===//
// The loss plot
//===----------------------------------------------------------------------===//

std::string renderLossCurveSvg(const std::vector<MetricsRow> &rows,
                               std::string_view title) {
  const double width = 800, height = 480;
  const double left = 80, right = width - 24, top = 48, bottom = height - 64;

  std::vector<std::pair<double, double>> train, validation;
  for (const MetricsRow &row : rows) {
    if (std::isfinite(row.trainLoss))
      train.push_back({double(row.step), row.trainLoss});
    if (row.valLoss && std::isfinite(*row.valLoss))
      validation.push_back({double(row.step), *row.valLoss});
  }
  train = downsample(train, 1000);
  validation = downsample(validation, 1000);

  double xMin = INFINITY, xMax = -INFINITY, yMin = INFINITY, yMax = -INFINITY;
  for (const auto *curve : {&train, &validation})
    for (auto [x, y] : *curve) {
      xMin = std::min(xMin, x);
      xMax = std::max(xMax, x);
      yMin = std::min(yMin, y);
      yMax = std::max(yMax, y);
    }
  Axis xAxis(xMin, xMax, 8), yAxis(yMin, yMax, 6);
  auto px = [&](double x) {
    return left + (x - xAxis.lo) / (xAxis.hi - xAxis.lo) * (right - left);
  };
  auto py = [&](double y) {
    return bottom - (y - yAxis.lo) / (yAxis.hi - yAxis.lo) * (bottom - top);
  };
  auto num = [](double v) { return format("%.1f", v); };

  std::string svg;
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += strCat("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                "width=\"", width, "\" height=\"", height, "\" viewBox=\"0 0 ",
                width, " ", height,
                "\" font-family=\"sans-serif\" font-size=\"12\">\n");
  svg += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" "
         "fill=\"white\"/>\n";
  svg += strCat("<text x=\"", num(width / 2), "\" y=\"28\" "
                "text-anchor=\"middle\" font-size=\"16\">",
                escapeXml(title), "</text>\n");

  // Grid and ticks.
  svg += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (double x : xAxis.ticks())
    svg += strCat("<line x1=\"", num(px(x)), "\" y1=\"", num(top), "\" x2=\"",
                  num(px(x)), "\" y2=\"", num(bottom), "\"/>\n");
  for (double y : yAxis.ticks())
    svg += strCat("<line x1=\"", num(left), "\" y1=\"", num(py(y)), "\" x2=\"",
                  num(right), "\" y2=\"", num(py(y)), "\"/>\n");
  svg += "</g>\n";
  svg += "<g class=\"axes\" stroke=\"black\" stroke-width=\"1\">\n";
  svg += strCat("<line x1=\"", num(left), "\" y1=\"", num(bottom), "\" x2=\"",
                num(right), "\" y2=\"", num(bottom), "\"/>\n");
  svg += strCat("<line x1=\"", num(left), "\" y1=\"", num(top), "\" x2=\"",
                num(left), "\" y2=\"", num(bottom), "\"/>\n");
  for (double x : xAxis.ticks())
    svg += strCat("<line x1=\"", num(px(x)), "\" y1=\"", num(bottom),
                  "\" x2=\"", num(px(x)), "\" y2=\"", num(bottom + 5),
                  "\"/>\n");
  for (double y : yAxis.ticks())
    svg += strCat("<line x1=\"", num(left - 5), "\" y1=\"", num(py(y)),
                  "\" x2=\"", num(left), "\" y2=\"", num(py(y)), "\"/>\n");
  svg += "</g>\n";
  svg += "<g class=\"tick-labels\" fill=\"black\">\n";
  for (double x : xAxis.ticks())
    svg += strCat("<text x=\"", num(px(x)), "\" y=\"", num(bottom + 20),
                  "\" text-anchor=\"middle\">", xAxis.label(x), "</text>\n");
  for (double y : yAxis.ticks())
    svg += strCat("<text x=\"", num(left - 9), "\" y=\"", num(py(y) + 4),
                  "\" text-anchor=\"end\">", yAxis.label(y), "</text>\n");
  svg += "</g>\n";
  svg += strCat("<text class=\"x-label\" x=\"", num((left + right) / 2),
                "\" y=\"", num(height - 18),
                "\" text-anchor=\"middle\">step</text>\n");
  svg += strCat("<text class=\"y-label\" x=\"0\" y=\"0\" "
                "text-anchor=\"middle\" transform=\"translate(22 ",
                num((top + bottom) / 2),
                ") rotate(-90)\">loss (nats per byte)</text>\n");

  // Curves.
  auto polyline = [&](const std::vector<std::pair<double, double>> &points,
                      const char *cls, const char *color, const char *w) {
    std::string line = strCat("<polyline class=\"", cls,
                              "\" fill=\"none\" stroke=\"", color,
                              "\" stroke-width=\"", w, "\" points=\"");
    for (size_t i = 0; i < points.size(); ++i)
      line += strCat(i ? " " : "", num(px(points[i].first)), ",",
                     num(py(points[i].second)));
    return line + "\"/>\n";
  };
  const char *trainColor = "#1f77b4", *valColor = "#d62728";
  svg += polyline(train, "train", trainColor, "1.2");
  svg += polyline(validation, "validation", valColor, "2");
  if (validation.size() <= 200) {
    svg += strCat("<g class=\"validation-points\" fill=\"", valColor, "\">\n");
    for (auto [x, y] : validation)
      svg += strCat("<circle cx=\"", num(px(x)), "\" cy=\"", num(py(y)),
                    "\" r=\"3\"/>\n");
    svg += "</g>\n";
  }

  // Legend, top right of the plot area.
  double lx = right - 130, ly = top + 10;
  svg += "<g class=\"legend\">\n";
  svg += strCat("<rect x=\"", num(lx), "\" y=\"", num(ly), "\" width=\"120\" "
                "height=\"46\" fill=\"white\" fill-opacity=\"0.85\" "
                "stroke=\"#999999\"/>\n");
  svg += strCat("<line x1=\"", num(lx + 10), "\" y1=\"", num(ly + 15),
                "\" x2=\"", num(lx + 34), "\" y2=\"", num(ly + 15),
                "\" stroke=\"", trainColor, "\" stroke-width=\"2\"/>\n");
  svg += strCat("<text x=\"", num(lx + 42), "\" y=\"", num(ly + 19),
                "\">train</text>\n");
  svg += strCat("<line x1=\"", num(lx + 10), "\" y1=\"", num(ly + 33),
                "\" x2=\"", num(lx + 34), "\" y2=\"", num(ly + 33),
                "\" stroke=\"", valColor, "\" stroke-width=\"2\"/>\n");
  svg += strCat("<text x=\"", num(lx + 42), "\" y=\"", num(ly + 37),
                "\">validation</text>\n");
  svg += "</g>\n";
  svg += "</svg>\n";
  return svg;
}

//===----------------------------------------------------------------------===//
// Progress
//===----------------------------------------------------------------------===//

std::string formatDuration(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds))
    return "?";
  int64_t s = static_cast<int64_t>(seconds);
  char buffer[48];
  if (s < 1) // hundredths and tenths: short runs must not read "0s"
    std::snprintf(buffer, sizeof(buffer), "%.2fs",
                  std::floor(seconds * 100) / 100);
  else if (s < 10)
    std::snprintf(buffer, sizeof(buffer), "%.1fs",
                  std::floor(seconds * 10) / 10);
  else if (s < 60)
    std::snprintf(buffer, sizeof(buffer), "%" PRId64 "s", s);
  else if (s < 3600)
    std::snprintf(buffer, sizeof(buffer), "%" PRId64 "m%02" PRId64 "s", s / 60,
                  s % 60);
  else
    std::snprintf(buffer, sizeof(buffer), "%" PRId64 "h%02" PRId64 "m",
                  s / 3600, (s / 60) % 60);
  return buffer;
}

std::string formatCount(double value) {
  if (!std::isfinite(value))
    return "?";
  if (value < 1e3)
    return format("%.0f", value);
  if (value < 1e6)
    return format("%.1fk", value / 1e3);
  if (value < 1e9)
    return format("%.2fM", value / 1e6);
  return format("%.2fG", value / 1e9);
}

namespace {
std::string progressTail(const ProgressInfo &info) {
  return strCat("loss ", format("%.4f", info.loss), " lr ",
                format("%.2e", info.lr), " ",
                formatCount(info.tokensPerSecond), " tok/s ETA ",
                formatDuration(info.etaSeconds));
}
} // namespace

std::string formatProgressBar(const ProgressInfo &info, int barWidth) {
  double fraction =
      info.totalSteps > 0
          ? std::clamp(double(info.step) / double(info.totalSteps), 0.0, 1.0)
          : 0.0;
  int filled = static_cast<int>(fraction * barWidth);
  std::string bar(filled, '#');
  bar += std::string(barWidth - filled, '.');
  return strCat("step ", info.step, "/", info.totalSteps, " [", bar, "] ",
                static_cast<int>(fraction * 100), "% ", progressTail(info));
}

std::string fitProgressBar(const ProgressInfo &info, int columns) {
  int room = std::max(1, columns - 1);
  int withoutBar = static_cast<int>(formatProgressBar(info, 0).size());
  int barWidth = std::min(24, room - withoutBar);
  if (barWidth >= 8)
    return formatProgressBar(info, barWidth);
  std::string line = formatProgressLine(info);
  if (static_cast<int>(line.size()) > room)
    line.resize(room);
  return line;
}

std::string formatProgressLine(const ProgressInfo &info) {
  return strCat("step ", info.step, "/", info.totalSteps, " ",
                progressTail(info));
}

} // namespace uoe::train
