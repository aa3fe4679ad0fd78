#pragma once
// Typed errors for the whole library.
//
// Expected failures are values: functions return `Status` (success or an
// Error) or `Result<T>` (a T or an Error); both are [[nodiscard]]. An Error
// carries a domain code (`Errc`), the errno that caused it when there was one,
// and a message that already names the context (path, offset, client, line),
// so whoever finally prints it needs to add nothing.
//
// One place maps errno to Errc (`error_from_errno`, error.cpp); the CLI maps
// Errc to exit codes in cli/exit_code.cpp; the wire protocol maps it to status
// codes in its own format header.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace aiops {

enum class Errc {
  invalid_argument,   // the caller passed something impossible
  not_found,          // file, volume, client ... does not exist
  already_exists,     // exclusive creation found one
  permission_denied,  // EACCES/EPERM, or access rights refused
  io_error,           // EIO and other failures of the storage below us
  no_space,           // ENOSPC/EDQUOT
  corrupt,            // stored data fails its checks
  log_failed,         // the log refuses appends after an earlier failure
  busy,               // a lock is held by someone else
  unsupported,        // a format version or feature we do not know
  crashed,            // the fault-injecting file system simulated a crash
  timeout,
  invalid_input,      // malformed text or binary input from outside
  unreachable,        // the peer (a worker) cannot be connected to
  disconnected,       // the peer closed or broke the connection mid-way
};

/// Short stable name of a code ("io_error", ...), used in JSON output.
[[nodiscard]] std::string_view errc_name(Errc code) noexcept;

class Error {
 public:
  Error(Errc code, std::string message, int sys_errno = 0)
      : code_(code), message_(std::move(message)), errno_(sys_errno) {}

  [[nodiscard]] Errc code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// The errno behind this error, or 0.
  [[nodiscard]] int sys_errno() const noexcept { return errno_; }

  /// Returns a copy whose message is "context: message" — for adding the
  /// outer context (a path, a segment) while an error travels up.
  [[nodiscard]] Error with_context(std::string_view context) const;

 private:
  Errc code_;
  std::string message_;
  int errno_;
};

/// The one mapping from errno to Errc. `context` names what failed, e.g.
/// "pwrite log/0000000000000001.wal at offset 4096".
[[nodiscard]] Error error_from_errno(int sys_errno, std::string_view context);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  /// Precondition: !ok().
  [[nodiscard]] const Error& error() const { return error_; }

  static Status success() { return {}; }

 private:
  Error error_{Errc::invalid_argument, {}};
  bool ok_ = true;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}     // NOLINT: implicit by design

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// Precondition: ok().
  [[nodiscard]] T& value() & { return std::get<0>(v_); }
  [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
  [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
  [[nodiscard]] T* operator->() { return &std::get<0>(v_); }
  [[nodiscard]] const T* operator->() const { return &std::get<0>(v_); }
  [[nodiscard]] T& operator*() & { return std::get<0>(v_); }

  /// Precondition: !ok().
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }
  /// The error as a Status (success when ok()).
  [[nodiscard]] Status status() const { return ok() ? Status{} : Status{error()}; }

 private:
  std::variant<T, Error> v_;
};

}  // namespace aiops

// Propagate a failed Status or Result out of the current function.
#define AIOPS_TRY(expr)                                   \
  do {                                                    \
    if (auto aiops_try_ = (expr); !aiops_try_.ok())       \
      return aiops_try_.error();                          \
  } while (0)

#define AIOPS_CONCAT_INNER(a, b) a##b
#define AIOPS_CONCAT(a, b) AIOPS_CONCAT_INNER(a, b)
// `AIOPS_ASSIGN(auto file, fs.open(...));` — declare from a Result or return its error.
#define AIOPS_ASSIGN(decl, expr) AIOPS_ASSIGN_IMPL(AIOPS_CONCAT(aiops_res_, __LINE__), decl, expr)
#define AIOPS_ASSIGN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                       \
  if (!tmp.ok()) return tmp.error();       \
  decl = std::move(tmp).value()
