// SPDX-License-Identifier: Apache-2.0
// The sync channel between stages: a peer's death is Code::PeerClosed
// however the kernel reports it (EOF, a reset when it died with our word
// unread, EPIPE on a send), half a word is not a word, and a send to a dead
// peer never raises SIGPIPE.
#include "nsenter/sync.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

using namespace nsenter;

namespace {

struct Pair {
  int ours = -1, theirs = -1;
  Pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    ours = fds[0];
    theirs = fds[1];
  }
  void close_theirs() {
    ::close(theirs);
    theirs = -1;
  }
  ~Pair() {
    ::close(ours);
    if (theirs >= 0) ::close(theirs);
  }
};

std::string detail_of(const Error& e) { return std::string(e.detail_view()); }

}  // namespace

TEST_CASE("a peer gone with nothing unread is PeerClosed (EOF)") {
  Pair p;
  p.close_theirs();
  const auto got = SyncChannel(p.ours, Stage::Parent).receive();
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Code::PeerClosed);
  CHECK(got.error().stage == Stage::Parent);
  CHECK(detail_of(got.error()) == "got 0 of 4 bytes");
}

TEST_CASE("a peer gone with our word unread is PeerClosed too (the kernel says ECONNRESET)") {
  Pair p;
  const SyncChannel ours(p.ours, Stage::Parent);
  REQUIRE(ours.send(SyncMsg::UsermapAck));  // lands in their queue, never read
  p.close_theirs();
  const auto got = ours.receive();
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Code::PeerClosed);
  CHECK(detail_of(got.error()).find("(connection reset)") != std::string::npos);
}

TEST_CASE("the same from a real process that dies with our word unread") {
  Pair p;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(p.ours);
    char c;
    (void)!::read(p.theirs, &c, 1);  // waits until our word is there, reads one byte of it
    ::_exit(0);                      // and dies with three unread
  }
  p.close_theirs();
  const SyncChannel ours(p.ours, Stage::Parent);
  REQUIRE(ours.send(SyncMsg::UsermapAck));
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  const auto got = ours.receive();
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Code::PeerClosed);
}

TEST_CASE("half a word and then EOF is PeerClosed, saying how much came") {
  Pair p;
  const char half[2] = {0x40, 0};
  REQUIRE(::write(p.theirs, half, sizeof half) == 2);
  p.close_theirs();
  const auto got = SyncChannel(p.ours, Stage::Child).receive();
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Code::PeerClosed);
  CHECK(detail_of(got.error()) == "got 2 of 4 bytes");
}

TEST_CASE("a send to a dead peer is PeerClosed, not a SIGPIPE") {
  // SIGPIPE at its default: the send must not raise it at all.
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  REQUIRE(::sigaction(SIGPIPE, &dfl, &old) == 0);
  Pair p;
  p.close_theirs();
  const auto sent = SyncChannel(p.ours, Stage::Init).send(SyncMsg::ChildFinish);
  ::sigaction(SIGPIPE, &old, nullptr);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == Code::PeerClosed);
  CHECK(sent.error().stage == Stage::Init);
}

TEST_CASE("a word that is not the one expected names both") {
  Pair p;
  const std::uint32_t word = 0x45;
  REQUIRE(::write(p.theirs, &word, sizeof word) == 4);
  const auto got = SyncChannel(p.ours, Stage::Init).expect(SyncMsg::Grandchild);
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Code::UnexpectedSync);
  CHECK(detail_of(got.error()).find("got 0x45") != std::string::npos);
}
