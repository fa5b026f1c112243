// SPDX-License-Identifier: Apache-2.0
// nsenter: the pid line, stage 0's report of the stage 1 and stage 2 pids
// on the init pipe, exactly as runc 1.1's parent decodes it:
// {"stage1_pid":N,"stage2_pid":M} and a newline. Both sides use this pair.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "nsenter/detail/decimal.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

struct PidLine {
  char data[64];
  std::size_t size = 0;
  std::string_view view() const noexcept { return {data, size}; }
};

// On the stack: stage 0 writes it after the first clone.
inline PidLine format_pid_line(pid_t stage1, pid_t stage2) noexcept {
  PidLine line;
  const auto r = fmt::format_to_n(line.data, sizeof line.data, "{{\"stage1_pid\":{},\"stage2_pid\":{}}}\n", stage1, stage2);
  line.size = std::min(r.size, sizeof line.data);
  return line;
}

// Strict: the exact shape, both pids positive decimals without leading
// zeros, the newline, nothing else.
inline std::optional<std::pair<pid_t, pid_t>> parse_pid_line(std::string_view line) noexcept {
  constexpr std::string_view a = "{\"stage1_pid\":", b = ",\"stage2_pid\":", c = "}\n";
  auto pid = [](std::string_view digits) -> std::optional<pid_t> {
    if (digits.empty() || digits.front() == '0') return std::nullopt;
    const auto v = detail::parse_decimal<pid_t>(digits);
    if (!v || *v <= 0) return std::nullopt;
    return v;
  };
  if (!line.starts_with(a) || !line.ends_with(c)) return std::nullopt;
  line = line.substr(a.size(), line.size() - a.size() - c.size());
  const std::size_t comma = line.find(b);
  if (comma == std::string_view::npos) return std::nullopt;
  const auto s1 = pid(line.substr(0, comma)), s2 = pid(line.substr(comma + b.size()));
  if (!s1 || !s2) return std::nullopt;
  return std::pair{*s1, *s2};
}

NSENTER_END_NAMESPACE
