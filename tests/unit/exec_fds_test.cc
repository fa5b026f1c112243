// SPDX-License-Identifier: Apache-2.0
// cloexec_fds_from: which fds survive an exec, through close_range and
// through the /proc/self/fd walk it falls back to on older kernels; and
// close_fds_from, for a child that will not exec.
#include "nsenter/exec_fds.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
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
  REQUIRE(nsenter::detail::apply_to_open_fds(nsenter::detail::FdAction::Cloexec, static_cast<unsigned>(fds[1]),
                                             static_cast<unsigned>(fds[3])) == 0);
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

TEST_CASE("close_fds_from closes every fd from the first up, and nothing below") {
  // In a child: it closes whatever else this process holds up there too.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::vector<int> fds;
    for (int i = 0; i < 4; ++i) fds.push_back(::open("/dev/null", O_RDONLY));
    const int high = ::fcntl(fds[0], F_DUPFD, 900);  // far above, as a runtime's stray fd
    if (high < 900 || nsenter::close_fds_from(fds[2]) != 0) ::_exit(10);
    const bool below_open = ::fcntl(fds[0], F_GETFD) >= 0 && ::fcntl(fds[1], F_GETFD) >= 0;
    const bool above_closed = ::fcntl(fds[2], F_GETFD) == -1 && ::fcntl(fds[3], F_GETFD) == -1 && ::fcntl(high, F_GETFD) == -1;
    ::_exit(below_open ? (above_closed ? 0 : 12) : 11);
  }
  int status = -1;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // 11: an fd below was closed; 12: one above stayed open
}

TEST_CASE("the /proc/self/fd walk closes the same fds") {
  const std::vector<int> fds = open_leaky(5);
  REQUIRE(nsenter::detail::apply_to_open_fds(nsenter::detail::FdAction::Close, static_cast<unsigned>(fds[1]),
                                             static_cast<unsigned>(fds[3])) == 0);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    CAPTURE(i);
    CHECK((::fcntl(fds[i], F_GETFD) >= 0) == (i == 0 || i == 4));
  }
  ::close(fds[0]);
  ::close(fds[4]);
}
