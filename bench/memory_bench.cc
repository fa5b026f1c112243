// SPDX-License-Identifier: Apache-2.0
// Memory held by live inits: starts N inits that stay alive (a created,
// not yet started container: stage 2 blocks on stdin), and reports the
// shared memory (/proc/meminfo Shmem, where memfd pages live) they hold per
// init. An init that protects itself against CVE-2019-5736 by copying its
// binary into a memfd holds one copy for as long as it runs; inits exec'd
// from one sealed memfd made by the Launcher share it.
//
// Every variant is started by nsenter's Launcher (it speaks runc 1.1's
// protocol to runc's nsexec too); rounds are interleaved, medians quoted.
//
//   memory_bench ROUNDS INITS REF_INIT OUR_INIT
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "nsenter/launcher.hpp"

namespace {

long shmem_kb() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long value = 0;
  std::string unit;
  while (in >> key >> value) {
    if (key == "Shmem:") return value;
    std::getline(in, unit);
  }
  std::abort();
}

struct Variant {
  const char* name;
  nsenter::Launcher launcher;
  std::string state_dir;  // _LIBCONTAINER_STATEDIR, if any
};

// Starts `n` held inits; returns the Shmem growth per init in KB (other
// processes' noise can make it negative), or nullopt if an init failed.
std::optional<double> held_kb_per_init(Variant& v, int n) {
  nsenter::Bootstrap config;
  config.clone_flags = nsenter::NsSet{nsenter::NsKind::pid};
  std::vector<nsenter::InitProcess> inits;
  std::vector<int> holds;
  const long before = shmem_kb();
  for (int i = 0; i < n; ++i) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) std::abort();
    nsenter::LaunchOptions opt;
    opt.argv = {"init", "hold"};
    opt.stdio = {p[0], -1, 2};
    opt.state_dir = v.state_dir;
    auto init = v.launcher.launch(config, opt);
    ::close(p[0]);
    if (!init) {
      std::fprintf(stderr, "%s: %s\n", v.name, nsenter::to_string(init.error()).c_str());
      return std::nullopt;
    }
    inits.push_back(std::move(*init));
    holds.push_back(p[1]);
  }
  const long after = shmem_kb();
  for (int fd : holds) ::close(fd);  // the inits read EOF and exit
  for (auto& init : inits)
    if (auto st = init.wait(); !st || !st->success()) {
      std::fprintf(stderr, "%s: init %s\n", v.name, st ? nsenter::to_string(*st).c_str() : nsenter::to_string(st.error()).c_str());
      return std::nullopt;
    }
  return double(after - before) / n;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long file_kb(const char* path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return static_cast<long>(in.tellg()) / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: memory_bench ROUNDS INITS REF_INIT OUR_INIT\n");
    return 2;
  }
  const int rounds = std::atoi(argv[1]), n = std::atoi(argv[2]);
  char state_dir[] = "/tmp/nsenter-memory-bench.XXXXXX";
  if (::mkdtemp(state_dir) == nullptr) std::abort();
  struct RemoveDir {
    const char* path;
    ~RemoveDir() { ::rmdir(path); }
  } remove_dir{state_dir};
  auto by_path = [](const char* binary) {
    return nsenter::Launcher({.init_binary = binary, .exec_from_sealed_memfd = false});
  };
  Variant variants[] = {
      {"runc nsexec, protects itself, no state dir (binds in /tmp)", by_path(argv[3]), ""},
      {"runc nsexec, protects itself, state dir given (binds there)", by_path(argv[3]), state_dir},
      {"nsenter, protects itself, no state dir (detached read-only mount)", by_path(argv[4]), ""},
      {"nsenter, protects itself, state dir given (the same; the dir is unused)", by_path(argv[4]), state_dir},
      {"runc nsexec, from the Launcher's sealed memfd", nsenter::Launcher({.init_binary = argv[3]}), ""},
      {"nsenter, from the Launcher's sealed memfd", nsenter::Launcher({.init_binary = argv[4]}), ""},
  };
  constexpr int kVariants = sizeof variants / sizeof variants[0];
  // One start each first: the Launchers make their one sealed copy then,
  // outside the measurement (it is shared by every init afterwards).
  for (auto& v : variants)
    if (!held_kb_per_init(v, 1)) return 1;
  std::vector<double> kb[kVariants];
  for (int r = 0; r < rounds; ++r)
    for (int k = 0; k < kVariants; ++k) {
      const int who = (r + k) % kVariants;
      const auto v = held_kb_per_init(variants[who], n);
      if (!v) return 1;
      kb[who].push_back(*v);
    }
  std::printf("%d live inits at once, %d rounds; binaries: runc nsexec %ld KB, nsenter %ld KB\n\n", n, rounds,
              file_kb(argv[3]), file_kb(argv[4]));
  std::printf("| init, started how | shared memory held per live init (KB, median) | sealed copies made |\n|---|---|---|\n");
  for (int k = 0; k < kVariants; ++k)
    std::printf("| %s | %.0f | %u |\n", variants[k].name, median(kb[k]), variants[k].launcher.sealed_copies());
  return 0;
}
