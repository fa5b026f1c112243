// SPDX-License-Identifier: Apache-2.0
// read_message(): exact reads from a stream socket, EOF handling, and the
// header checked before the body is allocated or read.
#include "nsenter/message_reader.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

#include "support/message_builder.hpp"

using nsenter::Code;
using nsenter::read_message;
using nsenter::test::MessageBuilder;
using namespace nsenter::test;

namespace {

struct Pair {
  int reader = -1, writer = -1;
  Pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    reader = fds[0];
    writer = fds[1];
  }
  ~Pair() {
    if (reader >= 0) ::close(reader);
    close_writer();
  }
  void send(std::string_view bytes) const { REQUIRE(::write(writer, bytes.data(), bytes.size()) == ssize_t(bytes.size())); }
  void close_writer() {
    if (writer >= 0) ::close(writer);
    writer = -1;
  }
};

}  // namespace

TEST_CASE("reads exactly one message and leaves what follows on the pipe") {
  Pair p;
  const std::string msg = MessageBuilder().u32(kCloneFlags, CLONE_NEWUSER).str(kUidMap, "0 1000 1\n").build();
  p.send(msg + "tail");
  auto r = read_message(p.reader);
  REQUIRE_MESSAGE(r.has_value(), nsenter::to_string(r.error()));
  CHECK(std::string(r->begin(), r->end()) == msg);
  char rest[8] = {};
  CHECK(::read(p.reader, rest, sizeof rest) == 4);
  CHECK(std::string(rest) == "tail");
}

TEST_CASE("a message written a byte at a time is reassembled") {
  Pair p;
  const std::string msg = MessageBuilder().str(kNsPaths, "net:/proc/1/ns/net").build();
  std::thread writer([&] {
    for (char c : msg) (void)!::write(p.writer, &c, 1);
  });
  auto r = read_message(p.reader);
  writer.join();
  REQUIRE(r.has_value());
  CHECK(r->size() == msg.size());
}

TEST_CASE("EOF before, inside and after the header is Truncated with counts") {
  const std::string msg = MessageBuilder().u32(kCloneFlags, 0).build();
  struct Case {
    std::size_t sent;
    std::uint32_t offset;
    const char* detail;
  };
  for (const Case& c : {Case{0, 0, "got 0 of 16 header bytes"}, Case{5, 5, "got 5 of 16 header bytes"},
                        Case{16, 16, "got 16 of 24 bytes"}, Case{23, 23, "got 23 of 24 bytes"}}) {
    Pair p;
    p.send(msg.substr(0, c.sent));
    p.close_writer();
    auto r = read_message(p.reader);
    REQUIRE(!r.has_value());
    CHECK(r.error().op == nsenter::Op::ReadBootstrap);
    CHECK(r.error().code == Code::Truncated);
    CHECK(r.error().offset == c.offset);
    CHECK(r.error().detail_view() == c.detail);
  }
}

TEST_CASE("a bad header is refused before any body byte is read") {
  Pair p;
  // Claims 4 GiB; the body is never allocated or waited for (the writer
  // stays open, so a reader that tried would block forever).
  p.send(MessageBuilder().build(62000, 0xfffffff0));
  auto r = read_message(p.reader);
  REQUIRE(!r.has_value());
  CHECK(r.error().code == Code::MessageTooLarge);
  CHECK(r.error().op == nsenter::Op::ReadBootstrap);

  Pair q;
  q.send(MessageBuilder().build(NLMSG_ERROR, 1000));
  auto t = read_message(q.reader);
  REQUIRE(!t.has_value());
  CHECK(t.error().code == Code::BadMessageType);
}

TEST_CASE("a read error carries errno and the fd") {
  Pair p;
  const int fd = ::dup(p.reader);
  ::close(fd);
  auto r = read_message(fd);
  REQUIRE(!r.has_value());
  CHECK(r.error().code == Code::SystemError);
  CHECK(r.error().sys_errno == EBADF);
  CHECK(r.error().detail_view() == fmt::format("read fd {}", fd));
}

namespace {
std::atomic<int> g_interruptions{0};
void count_interruption(int) { ++g_interruptions; }

// The scheduler state of thread `tid` of this process ('S' while blocked).
char thread_state(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() ? '?' : line[close + 2];
}
}  // namespace

TEST_CASE("a read interrupted by a signal (EINTR) is retried") {
  Pair p;
  const std::string msg = MessageBuilder().u32(kCloneFlags, CLONE_NEWNET).str(kUidMap, "0 1000 1\n").build();
  // A handler without SA_RESTART: a blocked read returns EINTR.
  struct sigaction sa {}, old {};
  sa.sa_handler = count_interruption;
  REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);
  std::atomic<pid_t> tid{0};
  std::atomic<bool> done{false};  // a reader that gave up must not leave us waiting
  nsenter::Result<nsenter::wire::Bytes> result = nsenter::make_error(nsenter::Op::None, Code::SystemError);
  std::thread reader([&] {
    tid = ::gettid();
    result = read_message(p.reader);
    done = true;
  });
  while (tid == 0) std::this_thread::yield();
  // Half the message, so the reader blocks for the rest; each signal is
  // sent only once the reader is seen blocked, so each interrupts a read.
  p.send(msg.substr(0, 20));
  for (int i = 0; i < 5; ++i) {
    while (!done && thread_state(tid) != 'S') std::this_thread::yield();
    if (done) break;
    ::pthread_kill(reader.native_handle(), SIGUSR1);
    while (!done && g_interruptions <= i) std::this_thread::yield();
  }
  if (!done) p.send(msg.substr(20));
  reader.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  CHECK(g_interruptions == 5);
  REQUIRE_MESSAGE(result.has_value(), nsenter::to_string(result.error()));
  CHECK(std::string(result->begin(), result->end()) == msg);
}
