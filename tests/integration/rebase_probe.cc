// SPDX-License-Identifier: Apache-2.0
// A program that moves itself onto a read-only view of its own binary
// (exe_rebase.hpp) and says what happened, for exe_rebase_test's cases
// that need a binary of their own shape:
//   - a segment both writable and executable (a linker script's or an
//     assembler's "awx" section: the function below lives in one), which
//     must keep both after the move: the probe calls into it afterwards;
//   - run through the dynamic loader (`ld.so rebase_probe`), where
//     /proc/self/exe is the loader and the move must be refused.
// Prints key=value lines, flushed one by one so that a crash shows where.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "nsenter/exe_rebase.hpp"
#include "nsenter/self_protection.hpp"

#if defined(__x86_64__)
// The section's flags say "awx": the linker gives it (and whatever shares
// its segment) a PT_LOAD that is readable, writable and executable.
asm(".pushsection .awx_text,\"awx\",@progbits\n"
    ".globl awx_add\n"
    ".type awx_add,@function\n"
    "awx_add:\n"
    "  lea (%rdi,%rsi), %eax\n"
    "  ret\n"
    ".popsection\n");
#else
#error "rebase_probe: the awx function is written for x86-64; add this architecture's (a test must not pass unchecked)"
#endif
extern "C" int awx_add(int, int);

namespace {

// The permissions of the mapping that holds `address`.
std::string perms_at(const void* at) {
  const auto address = reinterpret_cast<std::uintptr_t>(at);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) == 3 && start <= address && address < end) return perms;
  }
  return "unmapped";
}

void say(const char* key, const std::string& value) {
  std::printf("%s=%s\n", key, value.c_str());
  std::fflush(stdout);
}

}  // namespace

int main() {
  say("awx_before", perms_at(reinterpret_cast<const void*>(&awx_add)));
  nsenter::UniqueFd view = nsenter::detail::detached_read_only_view("/proc/self/exe");
  say("view", view ? "1" : "0");
  auto moved = nsenter::rebase_exe_onto(view.get());
  say("moved", moved ? "ok" : nsenter::to_string(moved.error()));
  say("awx_after", perms_at(reinterpret_cast<const void*>(&awx_add)));
  say("awx_call", std::to_string(awx_add(2, 3)));
  return 0;
}
