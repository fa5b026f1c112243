// SPDX-License-Identifier: Apache-2.0
// nsenter: numeric fields of /proc/self/stat, how many threads this
// process has (one of them), and what capabilities it holds.
#pragma once

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "nsenter/detail/decimal.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail {

// Fields of /proc/self/stat, numbered as in proc(5): out[i] gets field
// wanted[i]. `wanted` ascends, from 4 (field 3 is the state, a letter).
// False when the file cannot be read (no /proc in this mount namespace, say)
// or a wanted field is missing or not a non-negative decimal. One read
// into the stack, nothing allocated.
inline bool read_self_stat(std::span<const int> wanted, std::span<unsigned long long> out) noexcept {
  if (out.size() < wanted.size()) return false;
  UniqueFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  char buf[1024];  // ~300 bytes; the name is at most 64
  std::size_t size = 0;
  while (size < sizeof buf) {
    const ssize_t n = ::read(fd.get(), buf + size, sizeof buf - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<std::size_t>(n);
  }
  // The name, in parentheses, may hold spaces and parentheses: the fields
  // go on after the last ')', field 3 first.
  const std::string_view stat(buf, size);
  std::size_t pos = stat.rfind(')');
  if (pos == std::string_view::npos) return false;
  int field = 2;  // the one `pos` ends
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i] <= field || wanted[i] < 4) return false;
    while (field < wanted[i] && pos != std::string_view::npos) {
      pos = stat.find(' ', pos + 1);
      ++field;
    }
    if (pos == std::string_view::npos) return false;
    const std::size_t end = stat.find_first_of(" \n", pos + 1);
    const auto v = parse_decimal<unsigned long long>(stat.substr(pos + 1, end == std::string_view::npos ? end : end - pos - 1));
    if (!v) return false;
    out[i] = *v;
  }
  return true;
}

// num_threads (field 20); 0 when it cannot be read: callers treat 0 as
// "cannot tell".
inline unsigned long thread_count() noexcept {
  constexpr int kNumThreads[] = {20};
  unsigned long long n[1] = {};
  return read_self_stat(kNumThreads, n) ? static_cast<unsigned long>(n[0]) : 0;
}

// This thread's effective capabilities as one bit set (capget(2)), or 0.
inline std::uint64_t effective_capabilities() noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return 0;
  return data[0].effective | (static_cast<std::uint64_t>(data[1].effective) << 32);
}

inline bool has_effective_cap(int cap) noexcept { return (effective_capabilities() >> cap) & 1; }

// Every capability this build knows of (CAP_LAST_CAP of its kernel
// headers): as root of a user namespace it has just made or entered.
inline bool holds_every_capability() noexcept {
  static_assert(CAP_LAST_CAP < 63);
  constexpr std::uint64_t kAll = (std::uint64_t{1} << (CAP_LAST_CAP + 1)) - 1;
  return (effective_capabilities() & kAll) == kAll;
}

}  // namespace detail
NSENTER_END_NAMESPACE
