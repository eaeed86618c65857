// Status: the one error channel of kc::kernels. A code plus one sentence naming the op, the
// offending value and the rule it breaks. No exceptions, no exit, no assert on user input.
#pragma once

#include <string>
#include <utility>

namespace kc {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the value can never be valid (negative size, null data, bad eps, ...)
  kUnsupported,      // a valid request this implementation does not do (hidden too large, ...)
  kCudaError,        // the CUDA runtime refused the launch
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "ok" or "<code>: <message>".
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Early return on failure: KC_RETURN_IF_ERROR(check(args));
#define KC_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::kc::Status kc_status_ = (expr);           \
    if (!kc_status_.is_ok()) return kc_status_; \
  } while (0)

}  // namespace kc
