// SPDX-License-Identifier: Apache-2.0
// The pool's template against a broken or vanished owner: it stops, says
// why on its stderr and exits, and never clones for a request it could not
// read whole. (Well-formed requests are launcher_pool_test's.)
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "nsenter/pool_template.hpp"
#include "support/test_util.hpp"

namespace {

[[noreturn]] void never_called(int, char**) { ::_exit(99); }

// Runs a template on one end of a socketpair in a child, lets `owner` act
// on the other end (then closes it), and returns the template's exit code
// and what it wrote on stderr.
template <class Owner>
std::pair<int, std::string> template_against(Owner owner) {
  int sp[2], err[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // As after the template's exec: only its own end of each.
    ::close(sp[0]);
    ::close(err[0]);
    ::dup2(err[1], 2);
    nsenter::detail::pool::serve_as_template(sp[1], never_called);
  }
  ::close(sp[1]);
  ::close(err[1]);
  owner(sp[0]);
  ::close(sp[0]);
  const std::string said = nsenter::test::read_to_end_and_close(err[0]);
  int status = -1;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), said};
}

}  // namespace

TEST_CASE("pool template: its owner closing the socket ends it, silently") {
  const auto [code, said] = template_against([](int) {});
  CHECK(code == 0);
  CHECK(said.empty());
}

TEST_CASE("pool template: a header that is not a request stops it, saying so") {
  nsenter::detail::pool::RequestHeader h;
  h.magic = 0x12345678;
  const auto [code, said] = template_against([&](int fd) { REQUIRE(::write(fd, &h, sizeof h) == sizeof h); });
  CHECK(code == 2);
  CHECK(said == "nsenter pool template: a malformed request\n");
}

TEST_CASE("pool template: strings that do not match their counts stop it, saying so") {
  nsenter::detail::pool::RequestHeader h;
  h.argc = 2;  // but one string follows
  const std::string strings("only\0", 5);
  h.string_bytes = static_cast<std::uint32_t>(strings.size());
  const auto [code, said] = template_against([&](int fd) {
    REQUIRE(::write(fd, &h, sizeof h) == sizeof h);
    REQUIRE(::write(fd, strings.data(), strings.size()) == static_cast<ssize_t>(strings.size()));
  });
  CHECK(code == 2);
  CHECK(said == "nsenter pool template: a malformed request\n");
}

TEST_CASE("pool template: a request cut short by its owner's end stops it, saying so") {
  nsenter::detail::pool::RequestHeader h;
  h.argc = 1;
  h.string_bytes = 100;  // promised, never sent
  const auto [code, said] = template_against([&](int fd) { REQUIRE(::write(fd, &h, sizeof h) == sizeof h); });
  CHECK(code == 1);
  CHECK(said == "nsenter pool template: a request was cut short\n");
  // And half a header, too.
  const auto [code2, said2] = template_against([&](int fd) { REQUIRE(::write(fd, &h, 8) == 8); });
  CHECK(code2 == 1);
  CHECK(said2 == "nsenter pool template: a request was cut short\n");
}
