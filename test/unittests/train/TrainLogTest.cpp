//===- TrainLogTest.cpp - tests of training logs and the loss plot --------===//
//
// metrics.csv (columns, derived validation numbers, parse round trip,
// resuming drops rows past the checkpoint and a partial last line), the
// loss-curve SVG (well-formed XML checked by a small tag-balancing parser,
// the elements a reader needs: axes, ticks, both curves, legend, escaped
// title), and the progress line and its duration / count formats.
//
//===----------------------------------------------------------------------===//

#include "train/TrainLog.h"

#include "test/unittests/runtime/TestUtil.h"

#include "gtest/gtest.h"

#include <cmath>
#include <map>

namespace uoe::train {

using namespace ::uoe::rt;
namespace {

using rt::test::hasError;
using rt::test::readBytes;
using rt::test::TempDir;
using rt::test::writeBytes;

MetricsRow row(int64_t step, double loss, std::optional<double> val = {}) {
  MetricsRow r;
  r.step = step;
  r.trainLoss = loss;
  r.valLoss = val;
  r.lr = 1e-3;
  r.gradNorm = 0.75;
  r.tokensPerSecond = 12345.6;
  r.elapsedSeconds = step * 0.5;
  return r;
}

std::vector<std::string> split(const std::string &line, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = line.find(sep, start);
    out.push_back(line.substr(start, at - start));
    if (at == std::string::npos)
      return out;
    start = at + 1;
  }
}

TEST(MetricsCsvTest, RowsHaveTheHeaderColumns) {
  EXPECT_EQ(split(kMetricsCsvHeader, ','),
            (std::vector<std::string>{"step", "train_loss", "val_loss",
                                      "val_ppl", "val_bpb", "lr", "grad_norm",
                                      "tokens_per_s", "elapsed_s"}));
  std::vector<std::string> plain = split(formatMetricsRow(row(3, 2.5)), ',');
  ASSERT_EQ(plain.size(), 9u);
  EXPECT_EQ(plain[0], "3");
  EXPECT_EQ(plain[1], "2.500000");
  EXPECT_EQ(plain[2], "");
  EXPECT_EQ(plain[3], "");
  EXPECT_EQ(plain[4], "");
  EXPECT_EQ(plain[5], "0.001");
  std::vector<std::string> eval =
      split(formatMetricsRow(row(4, 2.5, std::log(2.0) * 3)), ',');
  ASSERT_EQ(eval.size(), 9u);
  EXPECT_EQ(eval[3], "8.0000"); // exp(3 ln 2)
  EXPECT_EQ(eval[4], "3.000000"); // 3 ln 2 / ln 2
  EXPECT_NEAR(perplexity(1.0), std::exp(1.0), 1e-12);
  EXPECT_NEAR(bitsPerByte(std::log(2.0)), 1.0, 1e-12);
}

TEST(MetricsCsvTest, ParsesWhatItWrites) {
  std::string text = std::string(kMetricsCsvHeader) + "\n" +
                     formatMetricsRow(row(1, 5.5)) + "\n" +
                     formatMetricsRow(row(2, 4.25, 4.5)) + "\n";
  StatusOr<std::vector<MetricsRow>> rows = parseMetricsCsv(text, "m.csv");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].step, 1);
  EXPECT_FALSE((*rows)[0].valLoss.has_value());
  EXPECT_DOUBLE_EQ((*rows)[1].trainLoss, 4.25);
  EXPECT_DOUBLE_EQ(*(*rows)[1].valLoss, 4.5);
  EXPECT_DOUBLE_EQ((*rows)[1].elapsedSeconds, 1.0);

  EXPECT_TRUE(hasError(parseMetricsCsv("step,loss\n", "m.csv").status(),
                       StatusCode::DataLoss, {"m.csv", "line 1", "header"}));
  EXPECT_TRUE(hasError(
      parseMetricsCsv(std::string(kMetricsCsvHeader) + "\n1,2,3\n", "m.csv")
          .status(),
      StatusCode::DataLoss, {"line 2", "3 columns"}));
  EXPECT_TRUE(hasError(parseMetricsCsv(std::string(kMetricsCsvHeader) +
                                           "\n1,abc,,,,1,1,1,1\n",
                                       "m.csv")
                           .status(),
                       StatusCode::DataLoss, {"line 2", "'abc'"}));
}

TEST(MetricsCsvTest, WriterAppendsAndResumes) {
  TempDir dir;
  std::string path = dir.file("metrics.csv");
  {
    StatusOr<MetricsCsvWriter> writer = MetricsCsvWriter::open(path, -1);
    ASSERT_OK(writer);
    for (int step = 1; step <= 6; ++step)
      ASSERT_OK(writer->append(row(step, 6.0 - step * 0.5,
                                   step % 3 == 0 ? std::optional(4.0)
                                                 : std::nullopt)));
    EXPECT_EQ(writer->rows().size(), 6u);
    // Flushed line by line: readable while the writer is open.
    StatusOr<std::vector<MetricsRow>> rows =
        parseMetricsCsv(readBytes(path), path);
    ASSERT_OK(rows);
    EXPECT_EQ(rows->size(), 6u);
  }
  // A killed run's half-written line.
  writeBytes(path, readBytes(path) + "7,3.0,,");

  // Resuming from step 4 keeps rows 1..4 and appends after them.
  StatusOr<MetricsCsvWriter> resumed = MetricsCsvWriter::open(path, 4);
  ASSERT_OK(resumed);
  EXPECT_EQ(resumed->rows().size(), 4u);
  ASSERT_OK(resumed->append(row(5, 1.0)));
  StatusOr<std::vector<MetricsRow>> rows =
      parseMetricsCsv(readBytes(path), path);
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ(rows->back().step, 5);
  EXPECT_DOUBLE_EQ(rows->back().trainLoss, 1.0);
  EXPECT_TRUE((*rows)[2].valLoss.has_value());

  // A fresh start truncates.
  StatusOr<MetricsCsvWriter> fresh = MetricsCsvWriter::open(path, -1);
  ASSERT_OK(fresh);
  EXPECT_EQ(readBytes(path), std::string(kMetricsCsvHeader) + "\n");
  // Resuming without a file starts one.
  StatusOr<MetricsCsvWriter> none =
      MetricsCsvWriter::open(dir.file("new.csv"), 10);
  ASSERT_OK(none);
  EXPECT_TRUE(none->rows().empty());
}

/// A rough XML well-formedness check: balanced, properly nested tags,
/// quoted attributes, no stray '<' or '&'. Returns the element names in
/// document order (empty and the reason in `error` if malformed).
std::vector<std::string> parseXmlElements(const std::string &xml,
                                          std::string &error) {
  std::vector<std::string> names, stack;
  size_t i = 0;
  if (xml.rfind("<?xml", 0) == 0)
    i = xml.find("?>") + 2;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      size_t semi = xml.find(';', i);
      std::string entity = xml.substr(i, semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" &&
          entity != "&quot;" && entity != "&apos;") {
        error = "bad entity at " + std::to_string(i);
        return {};
      }
      i = semi + 1;
      continue;
    }
    if (xml[i] != '<') {
      if (xml[i] == '>') {
        error = "stray '>' at " + std::to_string(i);
        return {};
      }
      ++i;
      continue;
    }
    bool closing = xml[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    size_t nameEnd = xml.find_first_of(" \t\n/>", j);
    std::string name = xml.substr(j, nameEnd - j);
    if (name.empty()) {
      error = "empty tag name at " + std::to_string(i);
      return {};
    }
    // Skip attributes, honouring quotes.
    size_t k = nameEnd;
    char quote = 0;
    while (k < xml.size() && (quote || xml[k] != '>')) {
      if (quote && xml[k] == quote)
        quote = 0;
      else if (!quote && (xml[k] == '"' || xml[k] == '\''))
        quote = xml[k];
      else if (!quote && xml[k] == '<') {
        error = "'<' inside tag " + name;
        return {};
      }
      ++k;
    }
    if (k >= xml.size()) {
      error = "unterminated tag " + name;
      return {};
    }
    bool selfClosing = xml[k - 1] == '/';
    if (closing) {
      if (stack.empty() || stack.back() != name) {
        error = "mismatched </" + name + ">";
        return {};
      }
      stack.pop_back();
    } else {
      names.push_back(name);
      if (!selfClosing)
        stack.push_back(name);
    }
    i = k + 1;
  }
  if (!stack.empty()) {
    error = "unclosed <" + stack.back() + ">";
    return {};
  }
  return names;
}

int count(const std::string &haystack, const std::string &needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

TEST(LossCurveSvgTest, IsWellFormedWithAxesCurvesAndLegend) {
  std::vector<MetricsRow> rows;
  for (int step = 1; step <= 300; ++step)
    rows.push_back(row(step, 5.5 * std::exp(-step / 100.0) + 1.0,
                       step % 50 == 0 ? std::optional(5.0 * std::exp(-step / 100.0) + 1.2)
                                      : std::nullopt));
  std::string svg = renderLossCurveSvg(rows, "tiny <lm> & \"friends\"");
  std::string error;
  std::vector<std::string> elements = parseXmlElements(svg, error);
  ASSERT_TRUE(error.empty()) << error << "\n" << svg;
  ASSERT_FALSE(elements.empty());
  EXPECT_EQ(elements.front(), "svg");
  std::map<std::string, int> counts;
  for (const std::string &name : elements)
    ++counts[name];
  EXPECT_EQ(counts["polyline"], 2);
  EXPECT_EQ(counts["circle"], 6); // one per validation point
  EXPECT_GE(counts["text"], 8);   // title, labels, ticks, legend
  EXPECT_GE(counts["line"], 10);  // axes, ticks, grid, legend
  EXPECT_EQ(counts["rect"], 2);   // background, legend
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"train\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"validation\""), std::string::npos);
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);
  EXPECT_NE(svg.find(">validation</text>"), std::string::npos);
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_NE(svg.find("tiny &lt;lm&gt; &amp; &quot;friends&quot;"),
            std::string::npos);
  // Nice x ticks over 1..300: 0, 50, ..., 300.
  EXPECT_NE(svg.find(">300</text>"), std::string::npos);
  EXPECT_NE(svg.find(">150</text>"), std::string::npos);
  // The train curve has one point per step.
  size_t at = svg.find("class=\"train\"");
  size_t pointsAt = svg.find("points=\"", at) + 8;
  std::string points = svg.substr(pointsAt, svg.find('"', pointsAt) - pointsAt);
  EXPECT_EQ(count(points, ",") , 300);
  // Every coordinate lies inside the 800 x 480 canvas.
  for (const std::string &pair : split(points, ' ')) {
    std::vector<std::string> xy = split(pair, ',');
    ASSERT_EQ(xy.size(), 2u) << pair;
    double x = std::stod(xy[0]), y = std::stod(xy[1]);
    EXPECT_TRUE(x >= 0 && x <= 800 && y >= 0 && y <= 480) << pair;
  }
}

TEST(LossCurveSvgTest, HandlesDegenerateInputs) {
  std::string error;
  // No rows, one row, NaN losses, a huge run (downsampled).
  std::vector<std::vector<MetricsRow>> cases = {
      {}, {row(1, 3.0)}, {row(1, NAN), row(2, 2.0, NAN)}};
  std::vector<MetricsRow> big;
  for (int step = 1; step <= 5000; ++step)
    big.push_back(row(step, 3.0 + std::sin(step * 0.01)));
  cases.push_back(big);
  for (const auto &rows : cases) {
    std::string svg = renderLossCurveSvg(rows, "t");
    parseXmlElements(svg, error);
    EXPECT_TRUE(error.empty()) << error << "\n" << svg;
    EXPECT_EQ(svg.find("nan"), std::string::npos) << svg;
    EXPECT_EQ(svg.find("inf"), std::string::npos) << svg;
  }
  std::string svg = renderLossCurveSvg(big, "t");
  size_t at = svg.find("class=\"train\"");
  size_t pointsAt = svg.find("points=\"", at) + 8;
  std::string points = svg.substr(pointsAt, svg.find('"', pointsAt) - pointsAt);
  EXPECT_EQ(count(points, ","), 1000);
}

TEST(ProgressTest, FormatsDurationsCountsAndLines) {
  EXPECT_EQ(formatDuration(0), "0.00s");
  EXPECT_EQ(formatDuration(0.086), "0.08s");
  EXPECT_EQ(formatDuration(1.42), "1.4s");
  EXPECT_EQ(formatDuration(9.96), "9.9s");
  EXPECT_EQ(formatDuration(10.5), "10s");
  EXPECT_EQ(formatDuration(45.9), "45s");
  EXPECT_EQ(formatDuration(185), "3m05s");
  EXPECT_EQ(formatDuration(2 * 3600 + 7 * 60 + 30), "2h07m");
  EXPECT_EQ(formatDuration(-1), "?");
  EXPECT_EQ(formatDuration(NAN), "?");
  EXPECT_EQ(formatCount(950), "950");
  EXPECT_EQ(formatCount(12345), "12.3k");
  EXPECT_EQ(formatCount(4560000), "4.56M");

  ProgressInfo info;
  info.step = 120;
  info.totalSteps = 1000;
  info.loss = 2.34564;
  info.lr = 1e-3;
  info.tokensPerSecond = 12345;
  info.etaSeconds = 83;
  EXPECT_EQ(formatProgressBar(info, 10),
            "step 120/1000 [#.........] 12% loss 2.3456 lr 1.00e-03 12.3k "
            "tok/s ETA 1m23s");
  EXPECT_EQ(formatProgressLine(info),
            "step 120/1000 loss 2.3456 lr 1.00e-03 12.3k tok/s ETA 1m23s");
  info.step = 1000;
  EXPECT_NE(formatProgressBar(info, 4).find("[####] 100%"), std::string::npos);
}

} // namespace
} // namespace uoe::train

namespace uoe::train {

using namespace ::uoe::rt;
namespace {

// Tests that the bar fits terminals of every width: the bar shrinks, then
// goes, then the line is cut; it never reaches the last column.
TEST(TrainLogTest, ProgressBarFitsTheTerminal) {
  ProgressInfo info;
  info.step = 120;
  info.totalSteps = 100000;
  info.loss = 2.3456;
  info.lr = 1e-3;
  info.tokensPerSecond = 12345;
  info.etaSeconds = 4000;
  EXPECT_EQ(fitProgressBar(info, 200), formatProgressBar(info, 24));
  for (int columns : {120, 90, 80, 72, 60, 40, 20, 1}) {
    std::string line = fitProgressBar(info, columns);
    EXPECT_LE(static_cast<int>(line.size()), std::max(1, columns - 1))
        << columns << ": " << line;
    if (columns > 16)
      EXPECT_EQ(line.rfind("step 120/100000", 0), 0u) << line;
  }
  EXPECT_NE(fitProgressBar(info, 80).find("["), std::string::npos);
  EXPECT_EQ(fitProgressBar(info, 60).find("["), std::string::npos);
}

} // namespace
} // namespace uoe::train
