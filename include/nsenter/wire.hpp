// SPDX-License-Identifier: Apache-2.0
// nsenter: the bootstrap message on the wire (runc 1.1's netlink encoding).
// Pure: no system calls. decode() trusts no length it reads and reports every
// malformed shape as its own Code with the byte offset of the culprit.
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nsenter/bootstrap.hpp"
#include "nsenter/bootstrap_view.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/error.hpp"
#include "nsenter/limits.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace wire {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline constexpr std::uint16_t kInitMsg = 62000;  // INIT_MSG

// Attribute types, runc 1.1 (libcontainer/message_linux.go, nsexec.c).
enum class Attr : std::uint16_t {
  CloneFlags = 27281,    // CLONE_FLAGS_ATTR, u32
  NsPaths = 27282,       // NS_PATHS_ATTR, "kind:path,kind:path"
  UidMap = 27283,        // UIDMAP_ATTR, uid_map text
  GidMap = 27284,        // GIDMAP_ATTR, gid_map text
  SetGroup = 27285,      // SETGROUP_ATTR, u32 bool
  OomScoreAdj = 27286,   // OOMSCOREADJ_ATTR, decimal text
  RootlessEuid = 27287,  // ROOTLESS_EUID_ATTR, u32 bool
  UidMapPath = 27288,    // UIDMAPPATH_ATTR, newuidmap path
  GidMapPath = 27289,    // GIDMAPPATH_ATTR, newgidmap path
  MountSources = 27290,  // MOUNT_SOURCES_ATTR (runc 1.1), NUL-terminated entries
  TimeOffsets = 27290,   // TIMENSOFFSET_ATTR (runc >= 1.2 reuses the number)
};

// Which runc the peer is. Attribute 27290 is MOUNT_SOURCES in runc 1.1 and
// the time-namespace offsets from runc 1.2 on; everything else is shared.
enum class Profile : std::uint8_t { Runc11, Runc12 };

// A profile's name, as _NSENTER_PROFILE and nsrun say it.
constexpr std::string_view profile_name(Profile p) noexcept { return p == Profile::Runc12 ? "runc-1.2" : "runc-1.1"; }
constexpr std::optional<Profile> parse_profile(std::string_view name) noexcept {
  if (name == "runc-1.1") return Profile::Runc11;
  if (name == "runc-1.2") return Profile::Runc12;
  return std::nullopt;
}

inline constexpr std::uint16_t kFirstAttr = 27281;

constexpr std::string_view attr_name(Attr a, Profile profile = Profile::Runc11) noexcept {
  if (a == Attr::TimeOffsets && profile == Profile::Runc12) return "TIME_OFFSETS";
  constexpr std::array<std::string_view, kKnownAttrCount> names{
      "CLONE_FLAGS", "NS_PATHS",      "UIDMAP",     "GIDMAP",     "SETGROUP",
      "OOM_SCORE_ADJ", "ROOTLESS_EUID", "UIDMAPPATH", "GIDMAPPATH", "MOUNT_SOURCES"};
  return names[static_cast<std::uint16_t>(a) - kFirstAttr];
}

// The netlink header as read; flags, seq and pid carry no meaning for the
// init and are kept only so that tools can show them.
struct Header {
  std::uint32_t len = 0;
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t pid = 0;
};

struct EncodeOptions {
  // runc's Go side fills seq from a per-process counter (1 for the first
  // request) and sets NLM_F_REQUEST; neither is read by the init.
  std::uint32_t seq = 1;
  std::uint16_t flags = NLM_F_REQUEST;
  std::uint32_t pid = 0;
  Profile profile = Profile::Runc11;  // which runc's attributes to write
};

namespace detail {

constexpr std::size_t align4(std::size_t n) noexcept { return (n + kNlAlign - 1) & ~(kNlAlign - 1); }

// Host byte order, through memcpy: the buffer has no alignment guarantee.
inline std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_u16(std::uint8_t* p, std::uint16_t v) noexcept { std::memcpy(p, &v, sizeof v); }
inline void store_u32(std::uint8_t* p, std::uint32_t v) noexcept { std::memcpy(p, &v, sizeof v); }

inline std::uint32_t u32(std::size_t n) noexcept { return static_cast<std::uint32_t>(n); }

// Parses 1..10 decimal digits into a u32; false on anything else.
inline bool parse_u32(std::string_view text, std::uint32_t& out) noexcept {
  if (text.size() > 10) return false;
  const auto v = nsenter::detail::parse_decimal<std::uint32_t>(text);
  if (!v) return false;
  out = *v;
  return true;
}

using nsenter::detail::detail_text;

// The decoder proper. `msg` is exactly one message, header included, and its
// length has been checked against kMaxMessageBytes. It fills a BootstrapView
// of views into `msg` and never allocates.
class Decoder {
 public:
  Decoder(ByteView msg, Profile profile) noexcept : msg_(msg), profile_(profile) {}

  Result<BootstrapView> run() noexcept {
    std::size_t off = kNlMsgHeaderBytes;
    std::uint32_t seen = 0;  // bit (type - kFirstAttr) per attribute read
    while (off < msg_.size()) {
      if (msg_.size() - off < kNlAttrHeaderBytes)
        return fail(Code::TrailingBytes, off, detail_text("{} byte(s)", msg_.size() - off));
      const std::uint16_t nla_len = load_u16(&msg_[off]);
      const std::uint16_t nla_type = load_u16(&msg_[off + 2]);
      if (nla_len < kNlAttrHeaderBytes) return fail(Code::AttrTooShort, off, detail_text("nla_len {}", nla_len));
      if (nla_len > msg_.size() - off)
        return fail(Code::AttrOverrun, off,
                    detail_text("nla_len {} but {} byte(s) left", nla_len, msg_.size() - off));
      if (nla_type < kFirstAttr || nla_type >= kFirstAttr + kKnownAttrCount)
        return fail(Code::UnknownAttr, off, detail_text("type {}", nla_type));
      const auto attr = static_cast<Attr>(nla_type);
      const std::uint32_t bit = 1u << (nla_type - kFirstAttr);
      if (seen & bit) return fail(Code::DuplicateAttr, off, attr_name(attr, profile_));
      seen |= bit;
      if (auto r = parse_attr(attr, off, nla_len); !r) return r.error();
      // The last attribute may omit its padding; the loop ends either way.
      off += align4(nla_len);
    }
    return out_;
  }

 private:

  static Error fail(Code code, std::size_t off, std::string_view detail = {}) noexcept {
    return make_error(Op::DecodeBootstrap, code, u32(off), detail);
  }

  Result<void> parse_attr(Attr attr, std::size_t off, std::size_t nla_len) noexcept {
    const std::size_t body = off + kNlAttrHeaderBytes;
    const std::size_t size = nla_len - kNlAttrHeaderBytes;
    switch (attr) {
      case Attr::CloneFlags: {
        auto v = fixed_u32(attr, off, size);
        if (!v) return v.error();
        auto set = NsSet::from_clone_flags(*v);
        if (!set)
          return fail(Code::BadCloneFlags, body, detail_text("{:#x} (unknown bits {:#x})", *v, *v & ~kAllNsFlags));
        out_.clone_flags = *set;
        return {};
      }
      case Attr::SetGroup:
      case Attr::RootlessEuid: {
        auto v = fixed_u32(attr, off, size);
        if (!v) return v.error();
        if (*v > 1) return fail(Code::BadBool, body, detail_text("{} = {}", attr_name(attr), *v));
        (attr == Attr::SetGroup ? out_.setgroups : out_.rootless_euid) = (*v == 1);
        return {};
      }
      case Attr::MountSources:
        if (profile_ == Profile::Runc11) return parse_mount_sources(off, body, size);
        break;
      default: break;
    }
    auto text = c_string(attr, off, body, size);
    if (!text) return text.error();
    switch (attr) {
      case Attr::NsPaths: return parse_ns_paths(*text, body);
      case Attr::UidMap: return parse_id_map(*text, body, out_.uid_map);
      case Attr::GidMap: return parse_id_map(*text, body, out_.gid_map);
      case Attr::OomScoreAdj: return parse_oom(*text, body);
      case Attr::UidMapPath: return parse_helper(*text, body, out_.uid_map_helper);
      case Attr::GidMapPath: return parse_helper(*text, body, out_.gid_map_helper);
      case Attr::TimeOffsets: return parse_time_offsets(*text, body);
      default: break;
    }
    return fail(Code::UnknownAttr, off, attr_name(attr));  // unreachable: every Attr is handled
  }

  Result<std::uint32_t> fixed_u32(Attr attr, std::size_t off, std::size_t size) noexcept {
    if (size != 4) return fail(Code::BadAttrSize, off, detail_text("{} payload is {} byte(s), want 4", attr_name(attr), size));
    return load_u32(&msg_[off + kNlAttrHeaderBytes]);
  }

  // A string payload: NUL-terminated, no NUL before the end.
  Result<std::string_view> c_string(Attr attr, std::size_t off, std::size_t body, std::size_t size) noexcept {
    if (size == 0 || msg_[body + size - 1] != 0) return fail(Code::MissingNul, off, attr_name(attr, profile_));
    const std::string_view text(reinterpret_cast<const char*>(&msg_[body]), size - 1);
    if (auto nul = text.find('\0'); nul != std::string_view::npos)
      return fail(Code::EmbeddedNul, body + nul, attr_name(attr, profile_));
    return text;
  }

  Result<void> parse_ns_paths(std::string_view text, std::size_t body) noexcept {
    NsSet kinds;
    std::size_t pos = 0;
    while (true) {
      const std::size_t comma = std::min(text.find(',', pos), text.size());
      const std::string_view entry = text.substr(pos, comma - pos);
      const std::size_t at = body + pos;
      const std::size_t colon = entry.find(':');
      if (colon == std::string_view::npos) return fail(Code::NsEntryNoColon, at, entry);
      const auto kind = ns_kind_from_name(entry.substr(0, colon));
      if (!kind) return fail(Code::UnknownNsKind, at, entry.substr(0, colon));
      if (kinds.contains(*kind)) return fail(Code::DuplicateNsKind, at, name(*kind));
      kinds.insert(*kind);
      const std::string_view path = entry.substr(colon + 1);
      if (auto code = check_ns_path(path)) return fail(*code, at + colon + 1, path);
      out_.ns_paths.push_back(NsPathView{*kind, path});
      if (comma == text.size()) return {};
      pos = comma + 1;
    }
  }

  // Lines of exactly "inside outside count\n" (what runc's Go side writes).
  Result<void> parse_id_map(std::string_view text, std::size_t body, IdMapView& out) noexcept {
    if (text.empty()) return fail(Code::BadIdMap, body, "empty map");
    // Ranges and their offsets live on the stack only for the overlap check.
    // Range has no member initializers, so the 5 KiB array costs nothing
    // until used (an IdMapEntry array would be zero-filled on every call).
    struct Range {
      std::uint32_t inside, outside, count, at;
    };
    std::array<Range, kMaxIdMapLines> map;
    std::size_t n = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t at = body + pos;
      const std::size_t nl = text.find('\n', pos);
      const std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
      if (n == kMaxIdMapLines) return fail(Code::IdMapTooManyLines, at, line);
      if (nl == std::string_view::npos) return fail(Code::BadIdMap, at, detail_text("no newline after '{}'", line));
      IdMapEntry e;
      if (!parse_id_line(line, e)) return fail(Code::BadIdMap, at, line);
      if (auto code = check_id_range(e)) return fail(*code, at, line);
      map[n++] = Range{e.inside, e.outside, e.count, u32(at)};
      pos = nl + 1;
    }
    if (auto i = find_id_overlap(std::span<const Range>(map.data(), n)))
      return fail(Code::IdMapOverlap, map[*i].at, detail_text("line {}", *i + 1));
    out = IdMapView{text, n};
    return {};
  }

  static bool parse_id_line(std::string_view line, IdMapEntry& e) noexcept {
    const std::size_t a = line.find(' ');
    if (a == std::string_view::npos) return false;
    const std::size_t b = line.find(' ', a + 1);
    if (b == std::string_view::npos) return false;
    return parse_u32(line.substr(0, a), e.inside) && parse_u32(line.substr(a + 1, b - a - 1), e.outside) &&
           parse_u32(line.substr(b + 1), e.count);
  }

  Result<void> parse_oom(std::string_view text, std::size_t body) noexcept {
    const bool neg = !text.empty() && text.front() == '-';
    const std::string_view digits = text.substr(neg ? 1 : 0);
    std::uint32_t mag = 0;
    if (!parse_u32(digits, mag) || !oom_score_adj_in_range(neg ? -static_cast<long long>(mag) : mag))
      return fail(Code::BadOomScoreAdj, body, text);
    out_.oom_score_adj = neg ? -static_cast<int>(mag) : static_cast<int>(mag);
    return {};
  }

  Result<void> parse_helper(std::string_view text, std::size_t body, std::string_view& out) noexcept {
    if (auto code = check_helper_path(text)) return fail(*code, body, text);
    out = text;
    return {};
  }

  // Entries each end with NUL, and the attribute adds its own NUL after the
  // last one: {"/a", "", "/b"} is "/a\0\0/b\0" + "\0".
  Result<void> parse_mount_sources(std::size_t off, std::size_t body, std::size_t size) noexcept {
    if (size == 0 || msg_[body + size - 1] != 0) return fail(Code::MissingNul, off, "MOUNT_SOURCES");
    const std::string_view list(reinterpret_cast<const char*>(&msg_[body]), size - 1);
    if (!list.empty() && list.back() != '\0')
      return fail(Code::BadMountSources, body + list.size() - 1, "last entry lacks its NUL");
    std::size_t count = 0;
    std::size_t pos = 0;
    while (pos < list.size()) {
      const std::size_t nul = list.find('\0', pos);
      const std::string_view entry = list.substr(pos, nul - pos);
      if (auto code = check_mount_source(entry)) return fail(*code, body + pos, entry);
      ++count;
      pos = nul + 1;
    }
    out_.mount_sources = MountSourcesView{list, count};
    return {};
  }

  // Lines of exactly "clock secs nanosecs\n" (what runc 1.2 writes), each
  // clock at most once, nanoseconds below one second.
  Result<void> parse_time_offsets(std::string_view text, std::size_t body) noexcept {
    if (text.empty()) return fail(Code::BadTimeOffsets, body, "empty");
    std::size_t pos = 0, lines = 0;
    bool seen[2] = {false, false};
    while (pos < text.size()) {
      const std::size_t at = body + pos;
      const std::size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) return fail(Code::BadTimeOffsets, at, text.substr(pos));
      const std::string_view line = text.substr(pos, nl - pos);
      const std::size_t a = line.find(' ');
      const std::size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
      if (b == std::string_view::npos) return fail(Code::BadTimeOffsets, at, line);
      const auto clock = clock_from_name(line.substr(0, a));
      std::int64_t secs = 0;
      std::uint32_t nanos = 0;
      if (!clock || !parse_i64(line.substr(a + 1, b - a - 1), secs) || !parse_u32(line.substr(b + 1), nanos) ||
          nanos >= kNanosPerSec)
        return fail(Code::BadTimeOffsets, at, line);
      bool& dup = seen[static_cast<int>(*clock)];
      if (dup) return fail(Code::BadTimeOffsets, at, detail_text("{} given twice", name(*clock)));
      dup = true;
      ++lines;
      pos = nl + 1;
    }
    out_.time_offsets = TimeOffsetsView{text, lines};
    return {};
  }

  static bool parse_i64(std::string_view text, std::int64_t& out) noexcept {
    const bool neg = !text.empty() && text.front() == '-';
    if (text.size() - (neg ? 1 : 0) > 19) return false;
    const auto v = nsenter::detail::parse_decimal<std::int64_t>(text);
    if (!v) return false;
    out = *v;
    return true;
  }

  ByteView msg_;
  Profile profile_;
  BootstrapView out_;
};

}  // namespace detail

// Reads and checks the 16-byte header: enough of it to know how many more
// bytes to read, which is why it is exposed separately from decode().
inline Result<Header> decode_header(ByteView bytes) noexcept {
  if (bytes.size() < kNlMsgHeaderBytes)
    return make_error(Op::DecodeBootstrap, Code::ShortHeader, 0, detail::detail_text("{} byte(s)", bytes.size()));
  Header h;
  h.len = detail::load_u32(&bytes[0]);
  h.type = detail::load_u16(&bytes[4]);
  h.flags = detail::load_u16(&bytes[6]);
  h.seq = detail::load_u32(&bytes[8]);
  h.pid = detail::load_u32(&bytes[12]);
  if (h.type != kInitMsg)
    return make_error(Op::DecodeBootstrap, Code::BadMessageType, 4,
                      detail::detail_text("type {}{}", h.type, h.type == NLMSG_ERROR ? " (NLMSG_ERROR)" : ""));
  if (h.len < kNlMsgHeaderBytes)
    return make_error(Op::DecodeBootstrap, Code::BadMessageLength, 0, detail::detail_text("nlmsg_len {}", h.len));
  if (h.len > kMaxMessageBytes)
    return make_error(Op::DecodeBootstrap, Code::MessageTooLarge, 0,
                      detail::detail_text("nlmsg_len {} > {}", h.len, kMaxMessageBytes));
  return h;
}

// Decodes exactly one message (`bytes` holds the header and nlmsg_len bytes
// in all, no fewer and no more) into views of `bytes`, without allocating.
// This is the child side's decoder: everything is checked before any clone.
inline Result<BootstrapView> decode_view(ByteView bytes, Profile profile = Profile::Runc11) noexcept {
  auto header = decode_header(bytes);
  if (!header) return header.error();
  if (bytes.size() < header->len)
    return make_error(Op::DecodeBootstrap, Code::Truncated, detail::u32(bytes.size()),
                      detail::detail_text("got {} of {} bytes", bytes.size(), header->len));
  if (bytes.size() > header->len)
    return make_error(Op::DecodeBootstrap, Code::ExtraData, header->len,
                      detail::detail_text("{} byte(s) after nlmsg_len {}", bytes.size() - header->len, header->len));
  return detail::Decoder(bytes, profile).run();
}

// decode_view(), then an owning copy: for the parent side, tools and tests.
inline Result<Bootstrap> decode(ByteView bytes, Profile profile = Profile::Runc11) {
  auto view = decode_view(bytes, profile);
  if (!view) return view.error();
  return to_bootstrap(*view);
}

inline Result<Bootstrap> decode(std::string_view bytes, Profile profile = Profile::Runc11) {
  return decode(ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), profile);
}

// ---- encode ----------------------------------------------------------------

namespace detail {

class Encoder {
 public:
  Result<Bytes> run(const Bootstrap& b, const EncodeOptions& opt) {
    out_.resize(kNlMsgHeaderBytes);
    // Attribute order and shapes follow runc 1.1's bootstrapData(), so a
    // config runc would send encodes to the same bytes.
    if (!b.ns_fds.empty())
      return fail(Code::BadNsPath, fmt::format("ns_fds[0]: {} fd {}: a join by fd goes through a Launcher or an "
                                               "InitPool, which names it on the wire as a path",
                                               name(b.ns_fds[0].kind), b.ns_fds[0].fd));
    if (b.ns_of_process)
      return fail(Code::BadNsPath, fmt::format("ns_of_process: pidfd {}: a join by pidfd goes through a Launcher or an "
                                               "InitPool, which names it on the wire as paths",
                                               b.ns_of_process->pidfd));
    if (b.clone_flags) put_u32(Attr::CloneFlags, b.clone_flags->clone_flags());
    if (!b.ns_paths.empty()) {
      NsSet kinds;
      std::string text;
      for (std::size_t i = 0; i < b.ns_paths.size(); ++i) {
        const auto& p = b.ns_paths[i];
        if (kinds.contains(p.kind)) return fail(Code::DuplicateNsKind, fmt::format("ns_paths[{}]: {}", i, name(p.kind)));
        kinds.insert(p.kind);
        if (auto code = check_ns_path(p.path)) return fail(*code, fmt::format("ns_paths[{}]: {}", i, p.path));
        if (i > 0) text += ',';
        text += name(p.kind);
        text += ':';
        text += p.path;
      }
      if (auto r = put_string(Attr::NsPaths, text); !r) return r.error();
    }
    if (!b.uid_map_helper.empty())
      if (auto r = put_helper(Attr::UidMapPath, b.uid_map_helper); !r) return r.error();
    if (!b.uid_map.empty())
      if (auto r = put_id_map(Attr::UidMap, b.uid_map); !r) return r.error();
    if (!b.gid_map.empty())
      if (auto r = put_id_map(Attr::GidMap, b.gid_map); !r) return r.error();
    if (!b.gid_map_helper.empty())
      if (auto r = put_helper(Attr::GidMapPath, b.gid_map_helper); !r) return r.error();
    if (b.setgroups) put_u32(Attr::SetGroup, *b.setgroups ? 1 : 0);
    if (b.oom_score_adj) {
      if (!oom_score_adj_in_range(*b.oom_score_adj))
        return fail(Code::BadOomScoreAdj, fmt::format("{}", *b.oom_score_adj));
      if (auto r = put_string(Attr::OomScoreAdj, fmt::format("{}", *b.oom_score_adj)); !r) return r.error();
    }
    if (b.rootless_euid) put_u32(Attr::RootlessEuid, *b.rootless_euid ? 1 : 0);
    if (b.mount_sources && opt.profile != Profile::Runc11) return fail(Code::NotInProfile, "mount_sources (runc 1.1 only)");
    if (!b.time_offsets.empty()) {
      if (opt.profile != Profile::Runc12) return fail(Code::NotInProfile, "time_offsets (runc >= 1.2 only)");
      std::string text;
      bool seen[2] = {false, false};
      for (const TimeOffset& o : b.time_offsets) {
        if (o.nanosecs < 0 || o.nanosecs >= kNanosPerSec)
          return fail(Code::BadTimeOffsets, fmt::format("{} nanosecs {}", name(o.clock), o.nanosecs));
        if (std::exchange(seen[static_cast<int>(o.clock)], true))
          return fail(Code::BadTimeOffsets, fmt::format("{} given twice", name(o.clock)));
        fmt::format_to(std::back_inserter(text), "{} {} {}\n", name(o.clock), o.secs, o.nanosecs);
      }
      if (auto r = put_string(Attr::TimeOffsets, text); !r) return r.error();
    }
    if (b.mount_sources) {
      std::string list;
      for (std::size_t i = 0; i < b.mount_sources->size(); ++i) {
        const auto& src = (*b.mount_sources)[i];
        if (auto code = check_mount_source(src)) return fail(*code, fmt::format("mount_sources[{}]: {}", i, src));
        list += src;
        list += '\0';
      }
      if (auto r = put_string(Attr::MountSources, list); !r) return r.error();
    }
    store_u32(&out_[0], u32(out_.size()));
    store_u16(&out_[4], kInitMsg);
    store_u16(&out_[6], opt.flags);
    store_u32(&out_[8], opt.seq);
    store_u32(&out_[12], opt.pid);
    return std::move(out_);
  }

 private:
  static Error fail(Code code, std::string_view detail) noexcept {
    return make_error(Op::EncodeBootstrap, code, kNoOffset, detail);
  }

  void put_header(Attr a, std::size_t nla_len) {
    const std::size_t at = out_.size();
    out_.resize(at + align4(nla_len), 0);
    store_u16(&out_[at], static_cast<std::uint16_t>(nla_len));
    store_u16(&out_[at + 2], static_cast<std::uint16_t>(a));
  }

  void put_u32(Attr a, std::uint32_t v) {
    put_header(a, kNlAttrHeaderBytes + 4);
    store_u32(&out_[out_.size() - 4], v);
  }

  // Payload plus the terminating NUL that runc's Bytemsg always appends.
  Result<void> put_string(Attr a, std::string_view payload) {
    const std::size_t nla_len = kNlAttrHeaderBytes + payload.size() + 1;
    if (nla_len > kMaxAttrBytes) return fail(Code::AttrTooLong, fmt::format("{}: {} bytes", attr_name(a), nla_len));
    const std::size_t at = out_.size();
    put_header(a, nla_len);
    std::memcpy(&out_[at + kNlAttrHeaderBytes], payload.data(), payload.size());
    return {};
  }

  Result<void> put_helper(Attr a, std::string_view path) {
    if (auto code = check_helper_path(path)) return fail(*code, fmt::format("{}: {}", attr_name(a), path));
    return put_string(a, path);
  }

  Result<void> put_id_map(Attr a, const std::vector<IdMapEntry>& map) {
    if (map.size() > kMaxIdMapLines) return fail(Code::IdMapTooManyLines, fmt::format("{}: {} lines", attr_name(a), map.size()));
    std::string text;
    for (std::size_t i = 0; i < map.size(); ++i) {
      const auto& e = map[i];
      if (auto code = check_id_range(e))
        return fail(*code, fmt::format("{} line {}: {} {} {}", attr_name(a), i + 1, e.inside, e.outside, e.count));
      fmt::format_to(std::back_inserter(text), "{} {} {}\n", e.inside, e.outside, e.count);
    }
    if (auto i = find_id_overlap(std::span<const IdMapEntry>(map))) return fail(Code::IdMapOverlap, fmt::format("{} line {}", attr_name(a), *i + 1));
    return put_string(a, text);
  }

  Bytes out_;
};

}  // namespace detail

// Encodes `b` as runc 1.1's Go side would: the same attribute order, widths,
// NUL terminators and padding. Refuses, with the field named in the detail,
// any value that decode() would refuse.
inline Result<Bytes> encode(const Bootstrap& b, const EncodeOptions& opt = {}) {
  return detail::Encoder{}.run(b, opt);
}

}  // namespace wire
NSENTER_END_NAMESPACE
