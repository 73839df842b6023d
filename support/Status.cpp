//===- Status.cpp - runtime error values ----------------------------------===//
//
// Names of status codes, message formatting, and the one abort path for
// programming errors.
//
//===----------------------------------------------------------------------===//

#include "support/Status.h"

#include <cstdio>
#include <cstdlib>

namespace uoe::rt {

const char *statusCodeName(StatusCode code) {
  switch (code) {
  case StatusCode::Ok:
    return "ok";
  case StatusCode::InvalidArgument:
    return "invalid argument";
  case StatusCode::NotFound:
    return "not found";
  case StatusCode::OutOfRange:
    return "out of range";
  case StatusCode::DataLoss:
    return "data loss";
  case StatusCode::Unimplemented:
    return "unimplemented";
  case StatusCode::Internal:
    return "internal";
  case StatusCode::Unavailable:
    return "unavailable";
  case StatusCode::FailedPrecondition:
    return "failed precondition";
  case StatusCode::IoError:
    return "I/O error";
  }
  return "unknown status code";
}

void fatalUsageError(std::string_view message) {
  std::fprintf(stderr, "uoe runtime: fatal usage error: %.*s\n",
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

Status::Status(StatusCode code, std::string message) : code_(code) {
  if (code_ != StatusCode::Ok)
    message_ = std::move(message);
}

std::string Status::toString() const {
  if (ok())
    return "ok";
  return std::string(statusCodeName(code_)) + ": " + message_;
}

Status Status::withContext(std::string_view context) const {
  if (ok())
    return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

} // namespace uoe::rt
