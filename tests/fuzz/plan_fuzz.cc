// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for what an init does with its input before the first
// clone: the environment's values (_LIBCONTAINER_LOGLEVEL,
// _LIBCONTAINER_MOUNT_FDS, _NSENTER_PARENT_DEATH) and the bootstrap message,
// decoded and planned as stage 0 plans them. Input: three NUL-terminated
// strings (mount fds, parent death, log level), then the message bytes.
// Beyond "no crash, no leak, no UB": a plan that is accepted names only fd
// numbers the init can give up, each once, and one target per namespace
// path, each a C string.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "nsenter/nsexec.hpp"

namespace {

// The next NUL-terminated string of the input, or "" when there is none.
std::string take(const std::uint8_t*& data, std::size_t& size) {
  const void* nul = std::memchr(data, 0, size);
  if (nul == nullptr) return {};
  const std::size_t n = static_cast<const std::uint8_t*>(nul) - data;
  std::string s(reinterpret_cast<const char*>(data), n);
  data += n + 1;
  size -= n + 1;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string mount_fds = take(data, size);
  const std::string death = take(data, size);
  const std::string level = take(data, size);
  (void)nsenter::parse_env_int("_LIBCONTAINER_LOGLEVEL", level.c_str());
  auto parent = nsenter::parse_parent_death("_NSENTER_PARENT_DEATH", death.c_str());
  if (parent && parent->signal != 0 && (parent->signal < 1 || parent->signal > 64 || parent->parent <= 0)) std::abort();

  for (auto profile : {nsenter::wire::Profile::Runc11, nsenter::wire::Profile::Runc12}) {
    auto config = nsenter::wire::decode_view(nsenter::wire::ByteView(data, size), profile);
    if (!config) continue;
    nsenter::BootstrapSource source;
    source.init_pipe = 3;
    source.log_pipe = 4;
    source.mount_fds = mount_fds.empty() ? nullptr : mount_fds.c_str();
    if (parent) source.parent_death = *parent;
    nsenter::Plan plan;
    auto r = nsenter::make_plan(*config, source, plan);
    if (!r) {
      (void)nsenter::to_string(r.error());
      continue;
    }
    if (plan.target_count != config->ns_paths.size()) std::abort();
    for (std::size_t i = 0; i < plan.target_count; ++i)
      if (std::strlen(plan.targets[i].path) != config->ns_paths[i].path.size()) std::abort();
    if (config->mount_sources) {
      std::vector<int> seen;
      const bool ok = nsenter::MountFdList(plan.mount_fds).for_each([&](int fd) {
        if (fd == -1) return;
        if (fd <= 4) std::abort();  // stdio and the two pipes are never given away
        for (int other : seen)
          if (other == fd) std::abort();  // nor one number twice
        seen.push_back(fd);
      });
      if (!ok) std::abort();
      const int highest = nsenter::highest_mount_fd(plan.mount_fds);
      for (int fd : seen)
        if (fd > highest) std::abort();
    }
  }
  return 0;
}
