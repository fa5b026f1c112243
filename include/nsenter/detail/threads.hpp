// nsenter: how many threads this process has, from /proc/self/stat.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string_view>

#include "nsenter/detail/decimal.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail {

// num_threads (field 20 of /proc/self/stat); 0 when it cannot be read (no
// /proc in this mount namespace, say): callers treat 0 as "cannot tell".
inline unsigned long thread_count() noexcept {
  UniqueFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  if (!fd) return 0;
  char buf[1024];
  const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return 0;
  // The name, in parentheses, may hold spaces and parentheses: the fields
  // go on after the last ')', field 3 (state) first.
  const std::string_view stat(buf, static_cast<std::size_t>(n));
  std::size_t pos = stat.rfind(')');
  for (int field = 2; field < 20 && pos != std::string_view::npos; ++field) pos = stat.find(' ', pos + 1);
  if (pos == std::string_view::npos) return 0;
  const std::string_view field = stat.substr(pos + 1, stat.find(' ', pos + 1) - pos - 1);
  return parse_decimal<unsigned long>(field).value_or(0);
}

}  // namespace detail
NSENTER_END_NAMESPACE
