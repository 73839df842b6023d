//===- Status.h - runtime error values --------------------------*- C++ -*-===//
//
// The runtime reports every failure as a value: a `Status` (a code plus a
// human-readable message) or a `StatusOr<T>` (a value or a non-OK Status).
// There are no exceptions in the runtime and no `assert` on user input;
// only a programming error (reading the value of a failed StatusOr) aborts.
//
// Messages name the thing that failed and say what is wrong with numbers,
// e.g. "w.npy: header says 24 bytes of data but the file has 20".
//
//===----------------------------------------------------------------------===//

#ifndef UOE_SUPPORT_STATUS_H
#define UOE_SUPPORT_STATUS_H

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace uoe::rt {

/// What went wrong, coarsely; the message says exactly what.
enum class StatusCode {
  Ok,
  InvalidArgument,    ///< The caller passed something malformed.
  NotFound,           ///< A named thing (file, tensor) does not exist.
  OutOfRange,         ///< A value or size is outside what can be represented.
  DataLoss,           ///< A file is corrupt or truncated.
  Unimplemented,      ///< A valid request that is not supported (yet).
  Internal,           ///< A runtime invariant broke (a bug in uoe).
  Unavailable,        ///< A resource is missing, e.g. no CUDA device.
  FailedPrecondition, ///< The system is not in the state the call needs.
  IoError,            ///< The operating system refused a read or write.
};

/// The lower-case name of `code` as used in `Status::toString`, e.g.
/// "invalid argument". Never null.
const char *statusCodeName(StatusCode code);

/// Aborts the process after printing `message` to stderr. Only for
/// programming errors that cannot be reported as a Status (e.g. taking the
/// value of a failed StatusOr); never for bad user input.
[[noreturn]] void fatalUsageError(std::string_view message);

/// A success or an error code with a message. Cheap to move; thread-compatible
/// (distinct objects may be used from distinct threads).
class [[nodiscard]] Status {
public:
  /// Success.
  Status() = default;
  /// An error. A `code` of `StatusCode::Ok` makes a success and drops the
  /// message.
  Status(StatusCode code, std::string message);

  bool ok() const { return code_ == StatusCode::Ok; }
  StatusCode code() const { return code_; }
  /// The message without the code; empty on success.
  const std::string &message() const { return message_; }
  /// "ok" on success, otherwise "<code name>: <message>", e.g.
  /// "not found: no tensor named 'w'".
  std::string toString() const;

  /// The same error with "<context>: " prepended to the message; success
  /// stays success. Used to add the file or tensor an error happened in.
  Status withContext(std::string_view context) const;

  /// Explicitly drops the status (for the rare caller that may ignore it).
  void ignoreError() const {}

private:
  StatusCode code_ = StatusCode::Ok;
  std::string message_;
};

inline Status okStatus() { return Status(); }
inline Status invalidArgumentError(std::string message) {
  return Status(StatusCode::InvalidArgument, std::move(message));
}
inline Status notFoundError(std::string message) {
  return Status(StatusCode::NotFound, std::move(message));
}
inline Status outOfRangeError(std::string message) {
  return Status(StatusCode::OutOfRange, std::move(message));
}
inline Status dataLossError(std::string message) {
  return Status(StatusCode::DataLoss, std::move(message));
}
inline Status unimplementedError(std::string message) {
  return Status(StatusCode::Unimplemented, std::move(message));
}
inline Status internalError(std::string message) {
  return Status(StatusCode::Internal, std::move(message));
}
inline Status unavailableError(std::string message) {
  return Status(StatusCode::Unavailable, std::move(message));
}
inline Status failedPreconditionError(std::string message) {
  return Status(StatusCode::FailedPrecondition, std::move(message));
}
inline Status ioError(std::string message) {
  return Status(StatusCode::IoError, std::move(message));
}

/// Either a value of type T or a non-OK Status. T may be move-only.
/// Constructing one from an OK Status is a bug and yields an Internal error
/// instead. Reading `value()` of an error aborts (check `ok()` first, or use
/// UOE_ASSIGN_OR_RETURN).
template <typename T> class [[nodiscard]] StatusOr {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>,
                "StatusOr<Status> makes no sense");
  static_assert(!std::is_reference_v<T>, "StatusOr holds values");

public:
  /// An error. `status` must not be OK.
  StatusOr(Status status) : status_(std::move(status)) {
    if (status_.ok())
      status_ = internalError("StatusOr constructed from an OK Status");
  }
  StatusOr(const T &value) : value_(value) {}
  StatusOr(T &&value) : value_(std::move(value)) {}
  /// Any value T can be built from (e.g. `const char *` for std::string).
  template <typename U, typename = std::enable_if_t<
                            std::is_constructible_v<T, U &&> &&
                            !std::is_same_v<std::decay_t<U>, T> &&
                            !std::is_same_v<std::decay_t<U>, Status> &&
                            !std::is_same_v<std::decay_t<U>, StatusOr<T>>>>
  StatusOr(U &&value) : value_(std::in_place, std::forward<U>(value)) {}

  bool ok() const { return status_.ok(); }
  /// OK when a value is held, the error otherwise.
  const Status &status() const & { return status_; }
  Status status() && { return std::move(status_); }

  const T &value() const & { return *checked(); }
  T &value() & { return *checked(); }
  T &&value() && { return std::move(*checked()); }

  const T &operator*() const & { return value(); }
  T &operator*() & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  const T *operator->() const { return &value(); }
  T *operator->() { return &value(); }

private:
  std::optional<T> &checked() {
    if (!value_)
      fatalUsageError("value() of a failed StatusOr: " + status_.toString());
    return value_;
  }
  const std::optional<T> &checked() const {
    if (!value_)
      fatalUsageError("value() of a failed StatusOr: " + status_.toString());
    return value_;
  }

  Status status_;
  std::optional<T> value_;
};

namespace detail {
inline const Status &asStatus(const Status &status) { return status; }
template <typename T> const Status &asStatus(const StatusOr<T> &statusOr) {
  return statusOr.status();
}
} // namespace detail

/// Concatenates the streamed form of every argument, for error messages:
/// `strCat("shape has ", n, " dimensions")`. Integers of one byte are
/// printed as numbers, not characters.
template <typename... Ts> std::string strCat(const Ts &...parts) {
  std::ostringstream os;
  auto put = [&os](const auto &part) {
    using P = std::decay_t<decltype(part)>;
    if constexpr (std::is_same_v<P, signed char> ||
                  std::is_same_v<P, unsigned char>)
      os << static_cast<int>(part);
    else
      os << part;
  };
  (put(parts), ...);
  return os.str();
}

} // namespace uoe::rt

#define UOE_STATUS_CONCAT_INNER(a, b) a##b
#define UOE_STATUS_CONCAT(a, b) UOE_STATUS_CONCAT_INNER(a, b)

/// Evaluates `expr` (a Status or a StatusOr) and returns its error from the
/// enclosing function (which returns Status or StatusOr) if it failed.
#define UOE_RETURN_IF_ERROR(expr)                                              \
  do {                                                                         \
    const auto &uoeStatusOrValue = (expr);                                     \
    if (!uoeStatusOrValue.ok())                                                \
      return ::uoe::rt::detail::asStatus(uoeStatusOrValue);                    \
  } while (false)

/// Evaluates `expr` (a StatusOr<T>); on error returns its Status from the
/// enclosing function, otherwise moves the value into `lhs`, which may be a
/// declaration (`UOE_ASSIGN_OR_RETURN(HostTensor t, readNpy(path));`) or an
/// existing variable. `lhs` must not contain an unparenthesised comma. Uses
/// a statement, not an expression, so it cannot be the body of an unbraced
/// `if`.
#define UOE_ASSIGN_OR_RETURN(lhs, expr)                                        \
  UOE_ASSIGN_OR_RETURN_IMPL(UOE_STATUS_CONCAT(uoeStatusOr, __LINE__), lhs, expr)
#define UOE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                              \
  auto tmp = (expr);                                                           \
  if (!tmp.ok())                                                               \
    return std::move(tmp).status();                                            \
  lhs = std::move(tmp).value()

#endif // UOE_SUPPORT_STATUS_H
