//===- StatusTest.cpp - tests of Status, StatusOr and their macros --------===//
//
// Codes, messages and their text form; StatusOr with copyable and
// move-only values; and that UOE_RETURN_IF_ERROR / UOE_ASSIGN_OR_RETURN
// stop at the first error and pass it on unchanged.
//
//===----------------------------------------------------------------------===//

#include "support/Status.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <memory>
#include <string>

namespace uoe::rt {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::Ok);
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status.toString(), "ok");
  EXPECT_TRUE(okStatus().ok());
}

TEST(StatusTest, FactoriesSetCodeAndText) {
  struct Case {
    Status status;
    StatusCode code;
    const char *text;
  };
  Case cases[] = {
      {invalidArgumentError("m"), StatusCode::InvalidArgument,
       "invalid argument: m"},
      {notFoundError("m"), StatusCode::NotFound, "not found: m"},
      {outOfRangeError("m"), StatusCode::OutOfRange, "out of range: m"},
      {dataLossError("m"), StatusCode::DataLoss, "data loss: m"},
      {unimplementedError("m"), StatusCode::Unimplemented, "unimplemented: m"},
      {internalError("m"), StatusCode::Internal, "internal: m"},
      {unavailableError("m"), StatusCode::Unavailable, "unavailable: m"},
      {failedPreconditionError("m"), StatusCode::FailedPrecondition,
       "failed precondition: m"},
      {ioError("m"), StatusCode::IoError, "I/O error: m"},
  };
  for (const Case &c : cases) {
    EXPECT_FALSE(c.status.ok()) << c.text;
    EXPECT_EQ(c.status.code(), c.code) << c.text;
    EXPECT_EQ(c.status.message(), "m");
    EXPECT_EQ(c.status.toString(), c.text);
  }
}

TEST(StatusTest, OkCodeDropsMessage) {
  Status status(StatusCode::Ok, "ignored");
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.message(), "");
}

TEST(StatusTest, WithContextPrefixesErrorsOnly) {
  Status error = dataLossError("bad magic").withContext("w.npy");
  EXPECT_EQ(error.code(), StatusCode::DataLoss);
  EXPECT_EQ(error.message(), "w.npy: bad magic");
  EXPECT_TRUE(okStatus().withContext("w.npy").ok());
  EXPECT_EQ(okStatus().withContext("w.npy").message(), "");
}

TEST(StatusTest, StrCatPrintsBytesAsNumbers) {
  EXPECT_EQ(strCat("a", 1, "b", int8_t(-3), uint8_t(200), 2.5), "a1b-32002.5");
}

TEST(StatusOrTest, HoldsValue) {
  StatusOr<int> value = 42;
  ASSERT_TRUE(value.ok());
  EXPECT_TRUE(value.status().ok());
  EXPECT_EQ(*value, 42);
  EXPECT_EQ(value.value(), 42);
  *value = 7;
  EXPECT_EQ(value.value(), 7);
}

TEST(StatusOrTest, HoldsError) {
  StatusOr<int> value = notFoundError("no tensor 'w'");
  EXPECT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), StatusCode::NotFound);
  EXPECT_EQ(value.status().message(), "no tensor 'w'");
}

TEST(StatusOrTest, OkStatusBecomesInternalError) {
  StatusOr<int> value = okStatus();
  EXPECT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), StatusCode::Internal);
}

TEST(StatusOrTest, MoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> value = std::make_unique<int>(5);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(**value, 5);
  std::unique_ptr<int> taken = std::move(value).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
}

TEST(StatusOrTest, ConvertsFromConstructibleValues) {
  StatusOr<std::string> text = "abc";
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->size(), 3u);
  EXPECT_EQ(*text, "abc");
}

TEST(StatusOrTest, StatusOfRvalueMovesOut) {
  StatusOr<int> value = ioError("disk");
  Status status = std::move(value).status();
  EXPECT_EQ(status.toString(), "I/O error: disk");
}

TEST(StatusOrDeathTest, ValueOfErrorAborts) {
  StatusOr<int> value = notFoundError("gone");
  EXPECT_DEATH((void)value.value(), "value\\(\\) of a failed StatusOr.*gone");
}

// Helpers for the macro tests: `steps` counts how far a function got.
Status failIf(bool fail) {
  return fail ? invalidArgumentError("step failed") : okStatus();
}
StatusOr<int> valueOrFail(bool fail, int value) {
  if (fail)
    return outOfRangeError("no value");
  return value;
}

Status twoSteps(bool failFirst, int &steps) {
  UOE_RETURN_IF_ERROR(failIf(failFirst));
  ++steps;
  UOE_RETURN_IF_ERROR(valueOrFail(false, 1)); // StatusOr works too.
  ++steps;
  return okStatus();
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  int steps = 0;
  Status status = twoSteps(/*failFirst=*/true, steps);
  EXPECT_EQ(steps, 0);
  EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
  EXPECT_EQ(status.message(), "step failed");

  steps = 0;
  EXPECT_TRUE(twoSteps(/*failFirst=*/false, steps).ok());
  EXPECT_EQ(steps, 2);
}

StatusOr<int> sumOf(bool failFirst, bool failSecond, int &steps) {
  UOE_ASSIGN_OR_RETURN(int first, valueOrFail(failFirst, 3));
  ++steps;
  int second = 0;
  UOE_ASSIGN_OR_RETURN(second, valueOrFail(failSecond, 4));
  ++steps;
  return first + second;
}

TEST(StatusMacrosTest, AssignOrReturn) {
  int steps = 0;
  StatusOr<int> sum = sumOf(false, false, steps);
  ASSERT_OK(sum);
  EXPECT_EQ(*sum, 7);
  EXPECT_EQ(steps, 2);

  steps = 0;
  sum = sumOf(true, false, steps);
  EXPECT_EQ(steps, 0);
  EXPECT_EQ(sum.status().code(), StatusCode::OutOfRange);

  steps = 0;
  sum = sumOf(false, true, steps);
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(sum.status().message(), "no value");
}

StatusOr<std::unique_ptr<int>> makeBox(bool fail) {
  if (fail)
    return unavailableError("no box");
  return std::make_unique<int>(9);
}

Status unbox(bool fail, int &out) {
  UOE_ASSIGN_OR_RETURN(std::unique_ptr<int> box, makeBox(fail));
  out = *box;
  return okStatus();
}

TEST(StatusMacrosTest, AssignOrReturnMovesMoveOnlyValues) {
  int out = 0;
  EXPECT_OK(unbox(false, out));
  EXPECT_EQ(out, 9);
  out = 0;
  EXPECT_EQ(unbox(true, out).code(), StatusCode::Unavailable);
  EXPECT_EQ(out, 0);
}

} // namespace
} // namespace uoe::rt
