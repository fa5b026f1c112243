// SPDX-License-Identifier: Apache-2.0
// The start breakdown: stamps in a page the stages share, the record's text
// and its parse back (what the Launcher does with it).
#include "nsenter/start_clock.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

TEST_CASE("a breakdown formats and parses back, and nothing else parses as one") {
  nsenter::StartBreakdown b;
  b.boot = 612;
  b.protection = 0;
  b.read = 21;
  b.plan = 9;
  b.joins = 95;
  b.unshares = 140;
  b.maps = 33;
  b.stage2 = 180;
  b.total = 1090;
  char text[256];
  const std::string_view line(text, nsenter::format_breakdown(b, text, sizeof text));
  CHECK(line ==
        "start (us): boot 612, protection 0, read 21, plan 9, joins 95, unshares 140, maps 33, stage 2 180, total 1090");
  const auto back = nsenter::parse_breakdown(line);
  REQUIRE(back);
  CHECK(back->boot == 612);
  CHECK(back->unshares == 140);
  CHECK(back->total == 1090);
  CHECK(nsenter::parse_breakdown("start (us): boot -1, protection 1, read 2, plan 3, joins 4, unshares 5, maps 0, "
                                 "stage 2 6, total 7")
            ->boot == -1);
  CHECK_FALSE(nsenter::parse_breakdown("~> nsexec stage-0"));
  CHECK_FALSE(nsenter::parse_breakdown(std::string(line) + " x"));
  CHECK_FALSE(nsenter::parse_breakdown(line.substr(0, line.size() - 6)));
  CHECK(nsenter::without_elapsed("+612us start (us): x") == "start (us): x");
  CHECK(nsenter::without_elapsed("+6x2us y") == "+6x2us y");
  CHECK(nsenter::without_elapsed("plain") == "plain");
}

TEST_CASE("stamps made in a child process reach the parent's breakdown") {
  nsenter::StartClock clock;
  CHECK(clock.breakdown().total == -1);  // disabled: nothing known
  const std::uint64_t began = nsenter::monotonic_ns();
  clock.enable(0, began);
  REQUIRE(clock.enabled());
  using S = nsenter::StartStep;
  for (S s : {S::Protected, S::MessageRead, S::Planned}) clock.mark(s);
  const pid_t child = ::fork();
  if (child == 0) {
    for (S s : {S::Joined, S::MapsAsked, S::MapsWritten, S::Unshared}) clock.mark(s);
    ::_exit(0);
  }
  REQUIRE(::waitpid(child, nullptr, 0) == child);
  clock.mark(S::Released);
  clock.mark(S::Done);
  const auto b = clock.breakdown();
  CHECK(b.boot == -1);  // no spawn time given
  for (long long v : {b.protection, b.read, b.plan, b.joins, b.maps, b.unshares, b.stage2, b.total}) CHECK(v >= 0);
  CHECK(b.total >= b.joins + b.stage2);
}
