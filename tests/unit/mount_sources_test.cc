// SPDX-License-Identifier: Apache-2.0
// _LIBCONTAINER_MOUNT_FDS parsing and pairing, and fd passing over a
// socketpair, without namespaces.
#include "nsenter/mount_sources.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "nsenter/wire.hpp"
#include "support/message_builder.hpp"

using namespace nsenter::test;

namespace {
std::vector<int> parse(std::string_view text, bool& ok) {
  std::vector<int> out;
  ok = nsenter::MountFdList(text).for_each([&](int fd) { out.push_back(fd); });
  return out;
}
}  // namespace

TEST_CASE("the fd list is a JSON array of fd numbers or -1") {
  bool ok = false;
  CHECK(parse("[-1,5,-1]", ok) == std::vector<int>{-1, 5, -1});
  CHECK(ok);
  CHECK(parse("[ 7 , 8 ]", ok) == std::vector<int>{7, 8});
  CHECK(ok);
  CHECK(parse("[]", ok).empty());
  CHECK(ok);
  for (const char* bad : {"", "[", "5", "[1,]", "[,1]", "[-2]", "[1] x", "[99999999999]", "[1 2]", "[a]", "[-]"}) {
    CAPTURE(bad);
    parse(bad, ok);
    CHECK_FALSE(ok);
  }
}

TEST_CASE("the fd list must pair with the mount sources entry by entry") {
  const std::string msg = MessageBuilder().str(kMountSources, std::string("\0/src\0\0", 7)).build();
  auto view = nsenter::wire::decode_view(
      nsenter::wire::ByteView(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
  REQUIRE(view.has_value());
  const auto& sources = *view->mount_sources;
  REQUIRE(sources.count == 3);
  CHECK(nsenter::check_mount_fds("FDS", "[-1,9,-1]", sources).has_value());
  auto detail = [&](const char* text) {
    auto r = nsenter::check_mount_fds("FDS", text, sources);
    REQUIRE(!r.has_value());
    CHECK(r.error().code == nsenter::Code::BadEnv);
    return std::string(r.error().detail_view());
  };
  CHECK(detail(nullptr) == "FDS: not set, but MOUNT_SOURCES was sent");
  CHECK(detail("[-1,9]") == "FDS: not one entry per mount source");
  CHECK(detail("[9,-1,-1]") == "FDS: an fd for an empty source, or none for a source");
  CHECK(detail("[-1,-1,-1]") == "FDS: an fd for an empty source, or none for a source");
  CHECK(detail("-1,9,-1") == "FDS: not a JSON array of fd numbers");
}

TEST_CASE("the fd list may not name a number the init cannot give up") {
  const std::string msg = MessageBuilder().str(kMountSources, std::string("/a\0/b\0", 6)).build();
  auto view = nsenter::wire::decode_view(
      nsenter::wire::ByteView(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
  REQUIRE(view.has_value());
  const auto& sources = *view->mount_sources;
  auto detail = [&](const char* text) {
    auto r = nsenter::check_mount_fds("FDS", text, sources, 3, 4);
    REQUIRE(!r.has_value());
    return std::string(r.error().detail_view());
  };
  CHECK(nsenter::check_mount_fds("FDS", "[7,8]", sources, 3, 4).has_value());
  CHECK(detail("[1,8]") == "FDS: fd 1 is stdio");
  CHECK(detail("[7,0]") == "FDS: fd 0 is stdio");
  CHECK(detail("[3,8]") == "FDS: fd 3 is the init pipe");
  CHECK(detail("[7,4]") == "FDS: fd 4 is the log pipe");
  CHECK(detail("[7,7]") == "FDS: fd 7 is named twice");
}

TEST_CASE("an fd that arrives on its own target number stays there") {
  int sp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
  const int file = ::open("/proc/self/exe", O_PATH | O_CLOEXEC);
  REQUIRE(file >= 0);
  REQUIRE(nsenter::send_fd(sp[0], file, nsenter::Stage::Parent).has_value());
  // The lowest free number is where SCM_RIGHTS puts it: name that one.
  const int target = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(target >= 0);
  ::close(target);
  auto r = nsenter::receive_fd_onto(sp[1], target, nsenter::Stage::Child);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : nsenter::to_string(r.error())));
  struct stat a {}, b {};
  REQUIRE(::fstat(file, &a) == 0);
  REQUIRE(::fstat(target, &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  for (int fd : {sp[0], sp[1], file, target}) ::close(fd);
}

TEST_CASE("an fd sent with SCM_RIGHTS lands on the requested number, close-on-exec") {
  int sp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
  const int file = ::open("/proc/self/exe", O_PATH | O_CLOEXEC);
  REQUIRE(file >= 0);
  REQUIRE(nsenter::send_fd(sp[0], file, nsenter::Stage::Parent).has_value());
  const int target = 40;
  REQUIRE(nsenter::receive_fd_onto(sp[1], target, nsenter::Stage::Child).has_value());
  struct stat a {}, b {};
  REQUIRE(::fstat(file, &a) == 0);
  REQUIRE(::fstat(target, &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  CHECK((::fcntl(target, F_GETFD) & FD_CLOEXEC) != 0);
  // A plain byte without an fd is refused, not taken for one.
  REQUIRE(::write(sp[0], "x", 1) == 1);
  auto r = nsenter::receive_fd_onto(sp[1], target + 1, nsenter::Stage::Child);
  REQUIRE(!r.has_value());
  CHECK(r.error().sys_errno == EBADMSG);
  for (int fd : {sp[0], sp[1], file, target}) ::close(fd);
}

TEST_CASE("a peer that died while an fd was awaited or sent is PeerClosed, as on the sync channel") {
  int sp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
  ::close(sp[0]);  // the sender is gone before it sent anything
  auto got = nsenter::receive_fd_onto(sp[1], 40, nsenter::Stage::Child);
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == nsenter::Code::PeerClosed);
  CHECK(got.error().stage == nsenter::Stage::Child);
  CHECK(::fcntl(40, F_GETFD) < 0);  // nothing put there

  const int file = ::open("/proc/self/exe", O_PATH | O_CLOEXEC);
  REQUIRE(file >= 0);
  auto sent = nsenter::send_fd(sp[1], file, nsenter::Stage::Parent);  // and the receiver is gone
  REQUIRE_FALSE(sent.has_value());
  CHECK(sent.error().code == nsenter::Code::PeerClosed);
  CHECK(sent.error().sys_errno == EPIPE);
  for (int fd : {sp[1], file}) ::close(fd);
}
