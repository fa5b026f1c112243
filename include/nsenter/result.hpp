// SPDX-License-Identifier: Apache-2.0
// nsenter: Result<T>, shaped like C++23 std::expected<T, Error> (GCC 12 has
// none) so that code written against it ports by changing one alias.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "nsenter/error.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

namespace detail {
// Misuse (value() of an error, error() of a value) is a programming bug; it
// aborts with a message instead of throwing, because child stages and
// constructors must not throw.
[[noreturn]] inline void result_misuse(const char* what) noexcept {
  std::fputs(what, stderr);
  std::fputc('\n', stderr);
  std::abort();
}
}  // namespace detail

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>);

 public:
  Result(const T& value) : v_(std::in_place_index<0>, value) {}
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(const Error& error) : v_(std::in_place_index<1>, error) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & noexcept { check(); return *std::get_if<0>(&v_); }
  const T& value() const& noexcept { check(); return *std::get_if<0>(&v_); }
  T&& value() && noexcept { check(); return std::move(*std::get_if<0>(&v_)); }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }

  const Error& error() const noexcept {
    if (has_value()) detail::result_misuse("nsenter: Result::error() called on a value");
    return *std::get_if<1>(&v_);
  }

 private:
  void check() const noexcept {
    if (!has_value()) detail::result_misuse("nsenter: Result::value() called on an error");
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() noexcept = default;
  Result(const Error& error) noexcept : failed_(true), error_(error) {}

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const noexcept {
    if (failed_) detail::result_misuse("nsenter: Result<void>::value() called on an error");
  }
  const Error& error() const noexcept {
    if (!failed_) detail::result_misuse("nsenter: Result::error() called on a value");
    return error_;
  }

 private:
  bool failed_ = false;
  Error error_{};
};

NSENTER_END_NAMESPACE
