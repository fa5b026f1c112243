// SPDX-License-Identifier: Apache-2.0
// The message across the init's own self-protection re-exec
// (self_protection.hpp): carry_message puts it in a memfd named in the
// environment, take_carried_message takes it back, once, and refuses what
// our re-exec would not have left.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "nsenter/self_protection.hpp"

namespace {

using nsenter::RuncEnv;
using nsenter::wire::Bytes;

bool open_fd(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

// Our re-exec's marker, for the cases that need it, and nothing after.
struct Marked {
  explicit Marked(bool marked) {
    if (marked) ::setenv(RuncEnv::cloned_binary, "1", 1);
  }
  ~Marked() {
    ::unsetenv(RuncEnv::cloned_binary);
    ::unsetenv(RuncEnv::carried_message);
  }
};

std::string error_of(const nsenter::Result<bool>& r) { return r ? "" : std::string(r.error().detail_view()); }

}  // namespace

TEST_CASE("carried message: what carry_message leaves, take_carried_message takes back whole, once") {
  Marked marked(true);
  Bytes message(70000);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i * 7);
  auto carried = nsenter::detail::carry_message(message);
  REQUIRE(carried);
  const int fd = carried->get();
  CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0);  // it must survive the one exec
  REQUIRE(std::getenv(RuncEnv::carried_message) != nullptr);
  CHECK(std::string(std::getenv(RuncEnv::carried_message)) == std::to_string(fd));
  (void)carried->release();  // as the exec hands it over
  Bytes out;
  const auto taken = nsenter::detail::take_carried_message(out);
  REQUIRE(taken);
  CHECK(*taken);
  CHECK(out == message);
  CHECK_FALSE(open_fd(fd));                                // closed
  CHECK(std::getenv(RuncEnv::carried_message) == nullptr);  // and gone from the environment
  // Nothing more to take: the message is the runtime's to send.
  const auto again = nsenter::detail::take_carried_message(out);
  REQUIRE(again);
  CHECK_FALSE(*again);
}

TEST_CASE("carried message: refused without our marker, or when the fd is no message of ours") {
  SUBCASE("no marker: a runtime's doing") {
    Marked marked(false);
    auto carried = nsenter::detail::carry_message(Bytes{1, 2, 3});
    REQUIRE(carried);
    Bytes out;
    const auto taken = nsenter::detail::take_carried_message(out);
    CHECK(error_of(taken).find("set only by the init's own re-exec") != std::string::npos);
  }
  SUBCASE("empty") {
    Marked marked(true);
    const int fd = ::memfd_create("empty", 0);
    REQUIRE(fd >= 0);
    ::setenv(RuncEnv::carried_message, std::to_string(fd).c_str(), 1);
    Bytes out;
    const auto taken = nsenter::detail::take_carried_message(out);
    CHECK(error_of(taken).find("not a carried message (0 bytes)") != std::string::npos);
    CHECK_FALSE(open_fd(fd));
  }
  SUBCASE("larger than any message") {
    Marked marked(true);
    const int fd = ::memfd_create("huge", 0);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(nsenter::kMaxMessageBytes) + 1) == 0);
    ::setenv(RuncEnv::carried_message, std::to_string(fd).c_str(), 1);
    Bytes out;
    const auto taken = nsenter::detail::take_carried_message(out);
    CHECK(error_of(taken).find("not a carried message") != std::string::npos);
    CHECK(out.empty());  // refused before anything was read
  }
  SUBCASE("not a number") {
    Marked marked(true);
    ::setenv(RuncEnv::carried_message, "7x", 1);
    Bytes out;
    const auto taken = nsenter::detail::take_carried_message(out);
    REQUIRE_FALSE(taken);
    CHECK(taken.error().code == nsenter::Code::BadEnv);
  }
}
