// cloexec_fds_from: which fds survive an exec, through close_range and
// through the /proc/self/fd walk it falls back to on older kernels.
#include "nsenter/exec_fds.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace {

// Opens fds without close-on-exec, as a leaky runtime leaves them.
std::vector<int> open_leaky(int count) {
  std::vector<int> fds;
  for (int i = 0; i < count; ++i) {
    const int fd = ::open("/dev/null", O_RDONLY);
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  return fds;
}

bool cloexec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

void check_marked(const std::vector<int>& fds, int first, const std::vector<int>& keep) {
  for (int fd : fds) {
    const bool kept = fd < first || std::find(keep.begin(), keep.end(), fd) != keep.end();
    CAPTURE(fd);
    CHECK(cloexec(fd) == !kept);
  }
}

}  // namespace

TEST_CASE("every fd from the first one up is close-on-exec, except those kept") {
  const std::vector<int> fds = open_leaky(6);
  const int first = fds[1];
  const std::vector<int> keep = {fds[2], fds[4]};
  REQUIRE(nsenter::cloexec_fds_from(first, keep) == 0);
  check_marked(fds, first, keep);
  for (int fd : fds) ::close(fd);
}

TEST_CASE("the /proc/self/fd walk marks the same fds") {
  const std::vector<int> fds = open_leaky(5);
  REQUIRE(nsenter::detail::cloexec_open_fds(static_cast<unsigned>(fds[1]), static_cast<unsigned>(fds[3])) == 0);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    CAPTURE(i);
    CHECK(cloexec(fds[i]) == (i >= 1 && i <= 3));
  }
  for (int fd : fds) ::close(fd);
}

TEST_CASE("fds below the first are never touched, and keeping a number that is not open is harmless") {
  const std::vector<int> fds = open_leaky(3);
  REQUIRE(nsenter::cloexec_fds_from(fds[2], std::vector<int>{fds[2] + 900}) == 0);
  CHECK_FALSE(cloexec(fds[0]));
  CHECK_FALSE(cloexec(fds[1]));
  CHECK(cloexec(fds[2]));
  for (int fd : fds) ::close(fd);
}
