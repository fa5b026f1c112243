// SPDX-License-Identifier: Apache-2.0
// nsenter: the one decimal parser, for every number the library reads
// (environment, message, fd lists, /proc names, log records, pid lines).
#pragma once

#include <charconv>
#include <concepts>
#include <optional>
#include <string_view>

#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail {

// All of `text` as a T: digits only, a leading '-' only for a signed T, in
// T's range. No '+', no spaces; leading zeros are accepted (the callers that
// refuse them say so). Allocation-free and async-signal-safe.
template <std::integral T>
std::optional<T> parse_decimal(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace detail
NSENTER_END_NAMESPACE
