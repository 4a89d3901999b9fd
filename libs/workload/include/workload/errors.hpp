#pragma once
// Errors of the workload domain: each names the field (or variable) it is about, so the API can
// answer 400 with `spec.stopTimeout: must be a duration` without knowing the spec.
#include <stdexcept>
#include <string>
#include <vector>

namespace workload {

struct FieldError {
  std::string field;    // "spec.ports[0].containerPort", a variable's env name, an egg path
  std::string message;  // "must be an integer from 1 to 65535"
  bool operator==(const FieldError&) const = default;
};

// Thrown with every problem found in one pass, not just the first: a user fixes a spec at once.
class SpecError : public std::runtime_error {
 public:
  explicit SpecError(std::vector<FieldError> errors);
  SpecError(std::string field, std::string message)
      : SpecError(std::vector<FieldError>{{std::move(field), std::move(message)}}) {}
  const std::vector<FieldError>& errors() const noexcept { return errors_; }

 private:
  std::vector<FieldError> errors_;
};

// Collects field errors while a document is walked; throws them together at the end.
class ErrorList {
 public:
  void add(std::string field, std::string message) { errors_.push_back({std::move(field), std::move(message)}); }
  bool empty() const noexcept { return errors_.empty(); }
  void throw_if_any() const {
    if (!errors_.empty()) throw SpecError(errors_);
  }

 private:
  std::vector<FieldError> errors_;
};

}  // namespace workload
