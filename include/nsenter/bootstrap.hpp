// SPDX-License-Identifier: Apache-2.0
// nsenter: the typed bootstrap config, one field per runc netlink attribute,
// and the value rules that both encode() and decode() enforce.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nsenter/error.hpp"
#include "nsenter/limits.hpp"
#include "nsenter/namespace_kind.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// One namespace to join: `kind` names the namespace, `path` a file that
// refers to it (usually /proc/PID/ns/<kind> or a bind mount of one).
struct NsPath {
  NsKind kind;
  std::string path;
  bool operator==(const NsPath&) const = default;
};

// One namespace to join that the runtime holds open: `fd` refers to it (a
// /proc/PID/ns/<kind> it opened, a bind mount of one, or an fd received
// over a socket). Only a Launcher or an InitPool carries it, since the wire
// names paths: it passes the fd to the init at a number it chooses and
// names that number's /proc/self/fd path (held_namespaces.hpp). The fd
// stays the caller's.
struct NsFd {
  NsKind kind;
  int fd = -1;
  bool operator==(const NsFd&) const = default;
};

// The namespaces of `kinds` of the process `pidfd` refers to, joined
// race-free: the Launcher opens them and checks the process still lives
// (no reused pid's namespaces), then carries them as NsFd joins. The pidfd
// stays the caller's.
struct NsOfProcess {
  int pidfd = -1;
  NsSet kinds;
  bool operator==(const NsOfProcess&) const = default;
};

// One line of /proc/PID/{uid,gid}_map: ids [inside, inside+count) in the
// new user namespace are ids [outside, outside+count) in its parent.
struct IdMapEntry {
  std::uint32_t inside = 0;
  std::uint32_t outside = 0;
  std::uint32_t count = 0;
  bool operator==(const IdMapEntry&) const = default;
};

// Clocks a time namespace can offset (time_namespaces(7)); the names are
// what /proc/PID/timens_offsets and runc >= 1.2 use.
enum class Clock : std::uint8_t { monotonic, boottime };

constexpr std::string_view name(Clock c) noexcept { return c == Clock::monotonic ? "monotonic" : "boottime"; }

constexpr std::optional<Clock> clock_from_name(std::string_view text) noexcept {
  if (text == "monotonic") return Clock::monotonic;
  if (text == "boottime") return Clock::boottime;
  return std::nullopt;
}

// One line of /proc/PID/timens_offsets: the clock runs `secs` seconds and
// `nanosecs` nanoseconds ahead (or behind, for negative secs) inside.
struct TimeOffset {
  Clock clock = Clock::monotonic;
  std::int64_t secs = 0;
  std::int64_t nanosecs = 0;  // 0 .. 999999999, as the kernel requires
  bool operator==(const TimeOffset&) const = default;
};

inline constexpr std::int64_t kNanosPerSec = 1000000000;

// The whole bootstrap message as data. Empty vectors and strings and
// disengaged optionals mean "attribute absent"; the wire layer never sends
// an empty list, since runc's peer would read it as a malformed one.
struct Bootstrap {
  std::optional<NsSet> clone_flags;            // CLONE_FLAGS_ATTR: namespaces to create
  std::vector<NsPath> ns_paths;                // NS_PATHS_ATTR, in join order
  std::vector<IdMapEntry> uid_map;             // UIDMAP_ATTR
  std::vector<IdMapEntry> gid_map;             // GIDMAP_ATTR
  std::optional<bool> setgroups;               // SETGROUP_ATTR
  std::optional<int> oom_score_adj;            // OOMSCOREADJ_ATTR
  std::optional<bool> rootless_euid;           // ROOTLESS_EUID_ATTR
  std::string uid_map_helper;                  // UIDMAPPATH_ATTR (newuidmap)
  std::string gid_map_helper;                  // GIDMAPPATH_ATTR (newgidmap)
  std::optional<std::vector<std::string>> mount_sources;  // MOUNT_SOURCES_ATTR (runc 1.1); "" = no fd
  std::vector<TimeOffset> time_offsets;  // TIMENSOFFSET_ATTR (runc >= 1.2 profile)
  // Joins the runtime holds as fds: not on the wire themselves (wire::encode
  // refuses them); a Launcher or an InitPool names them there as paths.
  std::vector<NsFd> ns_fds;
  std::optional<NsOfProcess> ns_of_process;

  bool operator==(const Bootstrap&) const = default;
};

inline constexpr int kMinOomScoreAdj = -1000;  // OOM_SCORE_ADJ_MIN
inline constexpr int kMaxOomScoreAdj = 1000;   // OOM_SCORE_ADJ_MAX

// ---- value rules shared by encode() and decode() --------------------------
// Each returns the Code of the first broken rule, or nullopt. Offsets are the
// caller's business: decode() knows where the value sits, encode() does not.

// A namespace path: absolute, no NUL, no ',' (NS_PATHS' separator), within
// PATH_MAX. Relative paths are refused because stage 1 resolves them after
// it may already have changed its mount namespace.
constexpr std::optional<Code> check_ns_path(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/' || path.size() > kMaxPathBytes) return Code::BadNsPath;
  if (path.find('\0') != std::string_view::npos) return Code::EmbeddedNul;
  if (path.find(',') != std::string_view::npos) return Code::BadNsPath;
  return std::nullopt;
}

// A newuidmap/newgidmap path: absolute (it is exec'd from whatever directory
// the init happens to be in), no NUL, within PATH_MAX.
constexpr std::optional<Code> check_helper_path(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/' || path.size() > kMaxPathBytes) return Code::BadHelperPath;
  if (path.find('\0') != std::string_view::npos) return Code::EmbeddedNul;
  return std::nullopt;
}

// One id-map range, as the kernel's map_write() checks it: a non-zero count
// and neither end wrapping past 2^32 - 1 (the kernel rejects first + count
// that overflows u32, and -1 is never a valid id).
constexpr std::optional<Code> check_id_range(const IdMapEntry& e) noexcept {
  if (e.count == 0) return Code::IdMapZeroCount;
  const std::uint64_t limit = UINT32_MAX;
  if (std::uint64_t{e.inside} + e.count > limit || std::uint64_t{e.outside} + e.count > limit)
    return Code::IdMapOverflow;
  return std::nullopt;
}

// The kernel refuses a map whose ranges overlap on either side; so do we,
// before any process exists. Returns the index of the first entry that
// overlaps an earlier one. Quadratic, but n <= 340. `Entry` is IdMapEntry or
// any type with the same three members.
template <class Entry>
std::optional<std::size_t> find_id_overlap(std::span<const Entry> map) noexcept {
  auto overlaps = [](std::uint32_t a, std::uint32_t b, std::uint32_t n, std::uint32_t m) {
    return std::uint64_t{a} < std::uint64_t{b} + m && std::uint64_t{b} < std::uint64_t{a} + n;
  };
  for (std::size_t i = 1; i < map.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (overlaps(map[i].inside, map[j].inside, map[i].count, map[j].count) ||
          overlaps(map[i].outside, map[j].outside, map[i].count, map[j].count))
        return i;
  return std::nullopt;
}

// A mount source that stage 0 opens with O_PATH: absolute (runc's Go side
// makes bind sources absolute before sending) and within PATH_MAX. The empty
// string is allowed and means "this mount needs no fd".
constexpr std::optional<Code> check_mount_source(std::string_view path) noexcept {
  if (path.find('\0') != std::string_view::npos) return Code::EmbeddedNul;
  if (!path.empty() && (path.front() != '/' || path.size() > kMaxPathBytes)) return Code::BadMountSources;
  return std::nullopt;
}

constexpr bool oom_score_adj_in_range(long long v) noexcept {
  return v >= kMinOomScoreAdj && v <= kMaxOomScoreAdj;
}

NSENTER_END_NAMESPACE
