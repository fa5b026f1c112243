// SPDX-License-Identifier: Apache-2.0
// nsenter: the bootstrap config as views into the one message buffer, as
// decode_view() produces it without touching the heap. This is what the
// child side plans from; Bootstrap (bootstrap.hpp) is the owning form.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "nsenter/bootstrap.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/detail/fixed_vector.hpp"
#include "nsenter/limits.hpp"
#include "nsenter/namespace_kind.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// Every view below points into the message buffer it was decoded from; the
// buffer must outlive it.

namespace detail {
// Calls f(line) for each '\n'-terminated line of text already validated to
// be made of such lines.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t nl = text.find('\n', pos);
    f(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
}
}  // namespace detail

struct NsPathView {
  NsKind kind = NsKind::mnt;
  std::string_view path;  // not NUL-terminated: NS_PATHS separates with ','
};

// Id-map text as sent, already validated line by line. Kept as text because
// stage 0 writes it to /proc/PID/{uid,gid}_map in one write(2) exactly as
// runc does; the entries are re-read only for the newuidmap argv.
struct IdMapView {
  std::string_view text;  // "inside outside count\n" lines; empty = absent
  std::size_t lines = 0;

  bool empty() const noexcept { return text.empty(); }

  // Calls f(IdMapEntry) per line. Cannot fail: decode_view() checked them.
  template <class F>
  void for_each(F&& f) const {
    detail::for_each_line(text, [&](std::string_view line) {
      IdMapEntry e;
      std::size_t pos = 0;
      for (std::uint32_t* out : {&e.inside, &e.outside, &e.count}) {
        const std::size_t space = std::min(line.find(' ', pos), line.size());
        *out = detail::parse_decimal<std::uint32_t>(line.substr(pos, space - pos)).value_or(0);
        pos = space + 1;
      }
      f(e);
    });
  }
};

// MOUNT_SOURCES entries, each NUL-terminated in the buffer (so each is a C
// string for open(2)); an empty entry means "no fd for this mount".
struct MountSourcesView {
  std::string_view list;  // entries with their NULs, without the attribute's own
  std::size_t count = 0;

  template <class F>
  void for_each(F&& f) const {
    std::size_t pos = 0;
    while (pos < list.size()) {
      const std::size_t nul = list.find('\0', pos);
      f(list.substr(pos, nul - pos));
      pos = nul + 1;
    }
  }
};

// Time-namespace offsets as sent ("clock secs nanosecs\n" lines, already
// validated): stage 1 writes the text to /proc/self/timens_offsets as is.
struct TimeOffsetsView {
  std::string_view text;
  std::size_t lines = 0;
  bool empty() const noexcept { return text.empty(); }

  template <class F>
  void for_each(F&& f) const {
    detail::for_each_line(text, [&](std::string_view line) {
      const std::size_t a = line.find(' '), b = line.find(' ', a + 1);
      TimeOffset o;
      o.clock = clock_from_name(line.substr(0, a)).value_or(Clock::monotonic);
      o.secs = parse_i64(line.substr(a + 1, b - a - 1));
      o.nanosecs = parse_i64(line.substr(b + 1));
      f(o);
    });
  }

 private:
  static std::int64_t parse_i64(std::string_view t) noexcept {
    return detail::parse_decimal<std::int64_t>(t).value_or(0);  // checked by decode_view()
  }
};

struct BootstrapView {
  std::optional<NsSet> clone_flags;
  detail::FixedVector<NsPathView, kMaxNamespaces> ns_paths;
  IdMapView uid_map;
  IdMapView gid_map;
  std::optional<bool> setgroups;
  std::optional<int> oom_score_adj;
  std::optional<bool> rootless_euid;
  std::string_view uid_map_helper;  // NUL-terminated in the buffer; empty = absent
  std::string_view gid_map_helper;
  std::optional<MountSourcesView> mount_sources;
  TimeOffsetsView time_offsets;
};

// The owning copy, for the parent side, tools and tests.
inline Bootstrap to_bootstrap(const BootstrapView& v) {
  Bootstrap b;
  b.clone_flags = v.clone_flags;
  b.ns_paths.reserve(v.ns_paths.size());
  for (const NsPathView& p : v.ns_paths) b.ns_paths.push_back(NsPath{p.kind, std::string(p.path)});
  auto copy_map = [](const IdMapView& from, std::vector<IdMapEntry>& to) {
    to.reserve(from.lines);
    from.for_each([&](const IdMapEntry& e) { to.push_back(e); });
  };
  copy_map(v.uid_map, b.uid_map);
  copy_map(v.gid_map, b.gid_map);
  b.setgroups = v.setgroups;
  b.oom_score_adj = v.oom_score_adj;
  b.rootless_euid = v.rootless_euid;
  b.uid_map_helper = std::string(v.uid_map_helper);
  b.gid_map_helper = std::string(v.gid_map_helper);
  if (v.mount_sources) {
    std::vector<std::string> sources;
    sources.reserve(v.mount_sources->count);
    v.mount_sources->for_each([&](std::string_view s) { sources.emplace_back(s); });
    b.mount_sources = std::move(sources);
  }
  b.time_offsets.reserve(v.time_offsets.lines);
  v.time_offsets.for_each([&](const TimeOffset& o) { b.time_offsets.push_back(o); });
  return b;
}

NSENTER_END_NAMESPACE
