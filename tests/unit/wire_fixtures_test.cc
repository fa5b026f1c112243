// SPDX-License-Identifier: Apache-2.0
// Byte-exact fixtures: real runc 1.1.5 traffic (tests/data/runc) and
// messages written out by hand from the protocol facts.
#include "nsenter/wire.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <string>

#include "nsenter/bootstrap_json.hpp"
#include "support/test_util.hpp"

using nsenter::Bootstrap;
using nsenter::NsKind;
using nsenter::NsSet;
namespace wire = nsenter::wire;
using nsenter::test::as_chars;
using nsenter::test::read_file;

static_assert(std::endian::native == std::endian::little,
              "the hand-written fixtures below are little-endian; the protocol uses host order");

TEST_CASE("messages captured from runc 1.1.5 decode as expected and re-encode to the same bytes") {
  for (const char* name :
       {"root_default", "root_userns", "root_join", "rootless", "rootless_multi", "bind_mounts", "oom_negative"}) {
    CAPTURE(name);
    const std::string bytes = read_file(fmt::format("tests/data/runc/{}.bin", name));
    std::string expected = read_file(fmt::format("tests/data/runc/{}.json", name));
    while (!expected.empty() && expected.back() == '\n') expected.pop_back();
    auto config = wire::decode(bytes);
    REQUIRE_MESSAGE(config.has_value(), nsenter::to_string(config.error()));
    CHECK(nsenter::to_json(*config) == expected);
    auto header = wire::decode_header(wire::ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), 16));
    REQUIRE(header.has_value());
    auto again = wire::encode(*config, {.seq = header->seq, .flags = header->flags, .pid = header->pid});
    REQUIRE(again.has_value());
    CHECK(as_chars(*again) == bytes);
  }
}

TEST_CASE("runc's captured messages carry the values that were configured") {
  auto userns = wire::decode(read_file("tests/data/runc/root_userns.bin"));
  REQUIRE(userns.has_value());
  CHECK(userns->clone_flags ==
        NsSet{NsKind::mnt, NsKind::uts, NsKind::ipc, NsKind::user, NsKind::pid, NsKind::net});
  CHECK(userns->uid_map == std::vector<nsenter::IdMapEntry>{{0, 100000, 65536}});
  CHECK(userns->setgroups == true);
  CHECK(userns->oom_score_adj == 500);

  auto join = wire::decode(read_file("tests/data/runc/root_join.bin"));
  REQUIRE(join.has_value());
  REQUIRE(join->ns_paths.size() == 3);
  CHECK(join->ns_paths[0] == nsenter::NsPath{NsKind::ipc, "/proc/4870/ns/ipc"});
  CHECK(join->ns_paths[2] == nsenter::NsPath{NsKind::net, "/proc/4870/ns/net"});

  auto rootless = wire::decode(read_file("tests/data/runc/rootless_multi.bin"));
  REQUIRE(rootless.has_value());
  CHECK(rootless->uid_map_helper == "/usr/bin/newuidmap");
  CHECK(rootless->gid_map == std::vector<nsenter::IdMapEntry>{{0, 1001, 1}, {1, 100000, 65536}});
  CHECK(rootless->rootless_euid == true);
}

// Built by hand: header, then CLONE_FLAGS (0x6a91) u32, UIDMAP (0x6a93)
// "0 1000 1\n\0" (nla_len 14, 2 padding bytes), SETGROUP (0x6a95) 0,
// ROOTLESS_EUID (0x6a97) 1.
constexpr unsigned char kRootlessUserMsg[] = {
    0x38, 0x00, 0x00, 0x00, 0x30, 0xf2, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // nlmsghdr
    0x08, 0x00, 0x91, 0x6a, 0x00, 0x00, 0x02, 0x10,                                                  // CLONE_FLAGS
    0x0e, 0x00, 0x93, 0x6a, '0',  ' ',  '1',  '0',  '0',  '0',  ' ',  '1',  '\n', 0x00, 0x00, 0x00,  // UIDMAP
    0x08, 0x00, 0x95, 0x6a, 0x00, 0x00, 0x00, 0x00,                                                  // SETGROUP
    0x08, 0x00, 0x97, 0x6a, 0x01, 0x00, 0x00, 0x00,                                                  // ROOTLESS_EUID
};

// CLONE_FLAGS 0, NS_PATHS (0x6a92) "net:/proc/1/ns/net\0" (nla_len 23, one
// padding byte), OOM_SCORE_ADJ (0x6a96) "-17\0", MOUNT_SOURCES (0x6a9a)
// {"/a", ""} = "/a\0" "\0" + the attribute's own "\0" (nla_len 9).
constexpr unsigned char kJoinMsg[] = {
    0x44, 0x00, 0x00, 0x00, 0x30, 0xf2, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // nlmsghdr
    0x08, 0x00, 0x91, 0x6a, 0x00, 0x00, 0x00, 0x00,                                                  // CLONE_FLAGS
    0x17, 0x00, 0x92, 0x6a, 'n',  'e',  't',  ':',  '/',  'p',  'r',  'o',  'c',  '/',  '1',  '/',
    'n',  's',  '/',  'n',  'e',  't',  0x00, 0x00,                                                  // NS_PATHS
    0x08, 0x00, 0x96, 0x6a, '-',  '1',  '7',  0x00,                                                  // OOM_SCORE_ADJ
    0x09, 0x00, 0x9a, 0x6a, '/',  'a',  0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                          // MOUNT_SOURCES
};

template <std::size_t N>
std::string bytes_of(const unsigned char (&raw)[N]) {
  return std::string(reinterpret_cast<const char*>(raw), N);
}

TEST_CASE("hand-built fixture: new user and mount namespaces, rootless") {
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::user, NsKind::mnt};
  b.uid_map = {{0, 1000, 1}};
  b.setgroups = false;
  b.rootless_euid = true;
  auto bytes = wire::encode(b);
  REQUIRE(bytes.has_value());
  CHECK(as_chars(*bytes) == bytes_of(kRootlessUserMsg));
  auto back = wire::decode(bytes_of(kRootlessUserMsg));
  REQUIRE(back.has_value());
  CHECK(*back == b);
}

TEST_CASE("hand-built fixture: join a netns, oom_score_adj, mount sources") {
  Bootstrap b;
  b.clone_flags = NsSet{};
  b.ns_paths = {{NsKind::net, "/proc/1/ns/net"}};
  b.oom_score_adj = -17;
  b.mount_sources = std::vector<std::string>{"/a", ""};
  auto bytes = wire::encode(b);
  REQUIRE(bytes.has_value());
  CHECK(as_chars(*bytes) == bytes_of(kJoinMsg));
  auto back = wire::decode(bytes_of(kJoinMsg));
  REQUIRE(back.has_value());
  CHECK(*back == b);
}

TEST_CASE("encode refuses what decode would refuse, naming the field") {
  auto refuse = [](const Bootstrap& b, nsenter::Code code, std::string_view detail) {
    auto r = wire::encode(b);
    REQUIRE(!r.has_value());
    CHECK(r.error().op == nsenter::Op::EncodeBootstrap);
    CHECK(r.error().code == code);
    CHECK(r.error().detail_view() == detail);
  };
  Bootstrap b;
  b.ns_paths = {{NsKind::net, "/a"}, {NsKind::net, "/b"}};
  refuse(b, nsenter::Code::DuplicateNsKind, "ns_paths[1]: net");
  b.ns_paths = {{NsKind::net, "/a,b"}};
  refuse(b, nsenter::Code::BadNsPath, "ns_paths[0]: /a,b");
  b.ns_paths = {{NsKind::net, "relative"}};
  refuse(b, nsenter::Code::BadNsPath, "ns_paths[0]: relative");
  // A join held as an fd means nothing to another process: a Launcher or
  // an InitPool carries it and names its number (held_namespaces.hpp).
  b = {};
  b.ns_fds = {{NsKind::net, 7}};
  refuse(b, nsenter::Code::BadNsPath,
         "ns_fds[0]: net fd 7: a join by fd goes through a Launcher or an InitPool, which names it on the wire as a path");
  b = {};
  b.ns_of_process = nsenter::NsOfProcess{.pidfd = 9, .kinds = nsenter::NsSet{NsKind::net}};
  refuse(b, nsenter::Code::BadNsPath,
         "ns_of_process: pidfd 9: a join by pidfd goes through a Launcher or an InitPool, which names it on the wire as "
         "paths");
  b = {};
  b.uid_map = {{0, 0, 0}};
  refuse(b, nsenter::Code::IdMapZeroCount, "UIDMAP line 1: 0 0 0");
  b.uid_map = {{0, 0, 10}, {5, 100, 1}};
  refuse(b, nsenter::Code::IdMapOverlap, "UIDMAP line 2");
  b.uid_map = std::vector<nsenter::IdMapEntry>(341, {0, 0, 1});
  refuse(b, nsenter::Code::IdMapTooManyLines, "UIDMAP: 341 lines");
  b = {};
  b.oom_score_adj = 1001;
  refuse(b, nsenter::Code::BadOomScoreAdj, "1001");
  b = {};
  b.gid_map_helper = "newgidmap";
  refuse(b, nsenter::Code::BadHelperPath, "GIDMAPPATH: newgidmap");
  b = {};
  b.mount_sources = std::vector<std::string>{std::string("/a\0b", 4)};
  refuse(b, nsenter::Code::EmbeddedNul, "mount_sources[0]: /a\\x00b");
  b.mount_sources = std::vector<std::string>(20, "/" + std::string(4000, 'x'));
  refuse(b, nsenter::Code::AttrTooLong, "MOUNT_SOURCES: 80045 bytes");
  b = {};
  b.time_offsets = {{nsenter::Clock::monotonic, 1, 0}};
  refuse(b, nsenter::Code::NotInProfile, "time_offsets (runc >= 1.2 only)");
}

TEST_CASE("runc 1.2 profile: time offsets encode after ROOTLESS_EUID in attribute 27290, as runc 1.2 writes them") {
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::time};
  b.rootless_euid = false;
  b.time_offsets = {{nsenter::Clock::monotonic, 7881, 2718281}, {nsenter::Clock::boottime, -1337, 3141519}};
  auto bytes = wire::encode(b, {.profile = wire::Profile::Runc12});
  REQUIRE(bytes.has_value());
  const std::string text = "monotonic 7881 2718281\nboottime -1337 3141519\n";
  const std::string tail(as_chars(*bytes).substr(32));  // header + CLONE_FLAGS + ROOTLESS_EUID
  CHECK(tail.substr(0, 4) == std::string("\x33\x00\x9a\x6a", 4));  // nla_len 51 = 4 + 46 + NUL
  CHECK(tail.substr(4, text.size()) == text);
  auto back = wire::decode(*bytes, wire::Profile::Runc12);
  REQUIRE(back.has_value());
  CHECK(*back == b);
  // A runc 1.2 peer has no mount sources.
  b.mount_sources = std::vector<std::string>{"/a"};
  auto refused = wire::encode(b, {.profile = wire::Profile::Runc12});
  REQUIRE(!refused.has_value());
  CHECK(refused.error().code == nsenter::Code::NotInProfile);
}
