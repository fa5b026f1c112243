// SPDX-License-Identifier: Apache-2.0
// wire::decode(): one case per malformed shape, asserting the error's code,
// offset and (where it names the culprit) detail, plus the accepted edges.
#include "nsenter/wire.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "support/message_builder.hpp"

using nsenter::Code;
using nsenter::Error;
using nsenter::Op;
using nsenter::test::MessageBuilder;
namespace wire = nsenter::wire;
using namespace nsenter::test;

namespace {

Error decode_error(const std::string& bytes) {
  auto r = wire::decode(bytes);
  REQUIRE_MESSAGE(!r.has_value(), "decode accepted a malformed message");
  CHECK(r.error().op == Op::DecodeBootstrap);
  CHECK(r.error().sys_errno == 0);
  return r.error();
}

void expect_error(const std::string& bytes, Code code, std::uint32_t offset) {
  const Error e = decode_error(bytes);
  CHECK_MESSAGE(e.code == code, nsenter::to_string(e));
  CHECK_MESSAGE(e.offset == offset, nsenter::to_string(e));
}

std::string ns_paths(std::string_view text) { return MessageBuilder().str(kNsPaths, text).build(); }
std::string uid_map(std::string_view text) { return MessageBuilder().str(kUidMap, text).build(); }
std::string oom(std::string_view text) { return MessageBuilder().str(kOomScoreAdj, text).build(); }

}  // namespace

TEST_CASE("header shorter than 16 bytes") {
  for (std::size_t n = 0; n < 16; ++n) expect_error(std::string(n, '\0'), Code::ShortHeader, 0);
}

TEST_CASE("nlmsg_len below the header size") {
  for (std::int64_t len : {0, 1, 15}) expect_error(MessageBuilder().build(62000, len), Code::BadMessageLength, 0);
}

TEST_CASE("nlmsg_len above the documented maximum") {
  expect_error(MessageBuilder().build(62000, nsenter::kMaxMessageBytes + 1), Code::MessageTooLarge, 0);
  expect_error(MessageBuilder().build(62000, 0xffffffff), Code::MessageTooLarge, 0);
}

TEST_CASE("message type other than INIT_MSG") {
  const Error e = decode_error(MessageBuilder().build(NLMSG_ERROR));
  CHECK(e.code == Code::BadMessageType);
  CHECK(e.offset == 4);
  CHECK(e.detail_view() == "type 2 (NLMSG_ERROR)");
  expect_error(MessageBuilder().build(62001), Code::BadMessageType, 4);
  expect_error(MessageBuilder().build(NLMSG_DONE), Code::BadMessageType, 4);
}

TEST_CASE("input shorter or longer than nlmsg_len") {
  const std::string msg = MessageBuilder().u32(kCloneFlags, 0).build();
  const Error e = decode_error(msg.substr(0, 20));
  CHECK(e.code == Code::Truncated);
  CHECK(e.offset == 20);
  CHECK(e.detail_view() == "got 20 of 24 bytes");
  expect_error(msg + "x", Code::ExtraData, 24);
}

TEST_CASE("nla_len below 4") {
  for (int len : {0, 1, 3})
    expect_error(MessageBuilder().u32(kCloneFlags, 0).attr(kUidMap, "", len).build(),
                 Code::AttrTooShort, 24);
}

TEST_CASE("attribute running past the message") {
  expect_error(MessageBuilder().attr(kNsPaths, "abc", 100).build(), Code::AttrOverrun, 16);
  // One byte past: nla_len 9 with only 8 bytes of attribute in the message.
  expect_error(MessageBuilder().attr(kOomScoreAdj, "-50", 9, false).build(), Code::AttrOverrun, 16);
}

TEST_CASE("fixed-size attribute of the wrong size") {
  expect_error(MessageBuilder().attr(kCloneFlags, std::string("\0\0", 2)).build(), Code::BadAttrSize, 16);
  expect_error(MessageBuilder().attr(kSetGroup, std::string(8, '\0')).build(), Code::BadAttrSize, 16);
  expect_error(MessageBuilder().attr(kRootlessEuid, "").build(), Code::BadAttrSize, 16);
}

TEST_CASE("string without its NUL or with an embedded NUL") {
  expect_error(MessageBuilder().attr(kNsPaths, "net:/a").build(), Code::MissingNul, 16);
  expect_error(MessageBuilder().attr(kUidMapPath, "").build(), Code::MissingNul, 16);
  expect_error(MessageBuilder().attr(kNsPaths, std::string("net:/a\0b\0", 9)).build(), Code::EmbeddedNul, 20 + 6);
  expect_error(MessageBuilder().attr(kOomScoreAdj, std::string("1\0\0", 3)).build(), Code::EmbeddedNul, 21);
}

TEST_CASE("unknown attribute type") {
  for (std::uint16_t type : {0, 1, 27280, 27291, 65535}) {
    const Error e = decode_error(MessageBuilder().u32(kCloneFlags, 0).u32(type, 0).build());
    CHECK(e.code == Code::UnknownAttr);
    CHECK(e.offset == 24);
    CHECK(e.detail_view() == fmt::format("type {}", type));
  }
}

TEST_CASE("duplicate attribute") {
  const Error e = decode_error(MessageBuilder().u32(kCloneFlags, 0).u32(kRootlessEuid, 0).u32(kCloneFlags, 0).build());
  CHECK(e.code == Code::DuplicateAttr);
  CHECK(e.offset == 32);
  CHECK(e.detail_view() == "CLONE_FLAGS");
  expect_error(MessageBuilder().str(kUidMap, "0 0 1\n").str(kUidMap, "0 0 1\n").build(), Code::DuplicateAttr, 28);
}

TEST_CASE("clone flags with bits that are not namespace flags") {
  const std::uint32_t clone_vm = 0x100;
  const Error e = decode_error(MessageBuilder().u32(kCloneFlags, CLONE_NEWNS | clone_vm).build());
  CHECK(e.code == Code::BadCloneFlags);
  CHECK(e.offset == 20);
  CHECK(e.detail_view() == "0x20100 (unknown bits 0x100)");
  expect_error(MessageBuilder().u32(kCloneFlags, SIGCHLD).build(), Code::BadCloneFlags, 20);
}

TEST_CASE("namespace entry without ':'") {
  expect_error(ns_paths("net/proc/1/ns/net"), Code::NsEntryNoColon, 20);
  expect_error(ns_paths(""), Code::NsEntryNoColon, 20);
  expect_error(ns_paths("net:/a,"), Code::NsEntryNoColon, 27);
  expect_error(ns_paths("net:/a,,uts:/b"), Code::NsEntryNoColon, 27);
}

TEST_CASE("namespace entry with an unknown kind") {
  const Error e = decode_error(ns_paths("net:/a,mount:/b"));
  CHECK(e.code == Code::UnknownNsKind);
  CHECK(e.offset == 27);
  CHECK(e.detail_view() == "mount");
  expect_error(ns_paths(":/a"), Code::UnknownNsKind, 20);
  expect_error(ns_paths("NET:/a"), Code::UnknownNsKind, 20);
}

TEST_CASE("namespace entry with an empty, relative or overlong path") {
  expect_error(ns_paths("net:"), Code::BadNsPath, 24);
  expect_error(ns_paths("user:/proc/1/ns/user,net:proc/1/ns/net"), Code::BadNsPath, 20 + 21 + 4);
  expect_error(ns_paths("uts:" + std::string(4096, '/')), Code::BadNsPath, 24);
  CHECK(wire::decode(ns_paths("uts:" + std::string(4095, '/'))).has_value());
}

TEST_CASE("namespace kind listed twice") {
  const Error e = decode_error(ns_paths("net:/a,uts:/b,net:/c"));
  CHECK(e.code == Code::DuplicateNsKind);
  CHECK(e.offset == 34);
  CHECK(e.detail_view() == "net");
}

TEST_CASE("id map text that is not lines of three unsigned decimals") {
  for (const char* text : {"0 1000\n", "0 1000 1 2\n", "a 1000 1\n", "0  1000 1\n", " 0 1000 1\n", "0 1000 1 \n",
                           "-1 1000 1\n", "0 1000 +1\n", "0\t1000\t1\n", "4294967296 0 1\n", "00000000001 0 1\n", "\n",
                           ""})
    expect_error(uid_map(text), Code::BadIdMap, 20);
  // The error points at the offending line, not the attribute.
  expect_error(uid_map("0 1000 1\n1 2000 x\n"), Code::BadIdMap, 29);
  // Every line must end with a newline, as runc writes them.
  expect_error(uid_map("0 1000 1\n1 2000 1"), Code::BadIdMap, 29);
}

TEST_CASE("id map with a zero count") { expect_error(uid_map("0 1000 1\n5 0 0\n"), Code::IdMapZeroCount, 29); }

TEST_CASE("id map range overflowing 32 bits") {
  expect_error(uid_map("4294967295 0 1\n"), Code::IdMapOverflow, 20);
  expect_error(uid_map("0 4294967000 1000\n"), Code::IdMapOverflow, 20);
  expect_error(uid_map("1 0 4294967295\n"), Code::IdMapOverflow, 20);
  CHECK(wire::decode(uid_map("0 0 4294967295\n")).has_value());
}

TEST_CASE("id map with more lines than the kernel accepts") {
  std::string text;
  for (int i = 0; i < 340; ++i) text += fmt::format("{} {} 1\n", i, 1000 + i);
  auto ok = wire::decode(uid_map(text));
  REQUIRE(ok.has_value());
  CHECK(ok->uid_map.size() == 340);
  const std::size_t line341 = 20 + text.size();
  text += "340 1340 1\n";
  expect_error(uid_map(text), Code::IdMapTooManyLines, static_cast<std::uint32_t>(line341));
}

TEST_CASE("id map ranges that overlap") {
  const Error e = decode_error(MessageBuilder().str(kGidMap, "0 1000 10\n100 5000 1\n5 2000 10\n").build());
  CHECK(e.code == Code::IdMapOverlap);
  CHECK(e.offset == 20 + 10 + 11);
  expect_error(uid_map("0 1000 10\n10 1005 1\n"), Code::IdMapOverlap, 30);  // outside side overlaps
  CHECK(wire::decode(uid_map("0 1000 10\n10 1010 1\n")).has_value());    // adjacent is fine
}

TEST_CASE("oom_score_adj that is not an integer in -1000..1000") {
  for (const char* text : {"1001", "-1001", "abc", "", "-", "+5", "1 ", " 1", "0x10", "99999999999"})
    expect_error(oom(text), Code::BadOomScoreAdj, 20);
  for (int v : {-1000, -1, 0, 1000}) {
    auto r = wire::decode(oom(std::to_string(v)));
    REQUIRE(r.has_value());
    CHECK(r->oom_score_adj == v);
  }
}

TEST_CASE("boolean attribute that is neither 0 nor 1") {
  expect_error(MessageBuilder().u32(kSetGroup, 2).build(), Code::BadBool, 20);
  expect_error(MessageBuilder().u32(kRootlessEuid, 0x100).build(), Code::BadBool, 20);
}

TEST_CASE("id map helper that is not an absolute path") {
  expect_error(MessageBuilder().str(kUidMapPath, "newuidmap").build(), Code::BadHelperPath, 20);
  expect_error(MessageBuilder().str(kGidMapPath, "").build(), Code::BadHelperPath, 20);
}

TEST_CASE("mount sources that are not a NUL-terminated list") {
  expect_error(MessageBuilder().attr(kMountSources, "/a").build(), Code::MissingNul, 16);
  // "/a" + attribute NUL, but the entry itself has no terminator.
  expect_error(MessageBuilder().str(kMountSources, "/a").build(), Code::BadMountSources, 21);
  expect_error(MessageBuilder().str(kMountSources, std::string("rel\0", 4)).build(), Code::BadMountSources, 20);
  auto r = wire::decode(MessageBuilder().str(kMountSources, std::string("\0/a\0\0", 5)).build());
  REQUIRE(r.has_value());
  CHECK(*r->mount_sources == std::vector<std::string>{"", "/a", ""});
  auto none = wire::decode(MessageBuilder().str(kMountSources, "").build());
  REQUIRE(none.has_value());
  CHECK(none->mount_sources->empty());
}

TEST_CASE("trailing bytes that are not a whole attribute") {
  for (int n = 1; n <= 3; ++n)
    expect_error(MessageBuilder().u32(kCloneFlags, 0).raw(std::string(static_cast<std::size_t>(n), '\0')).build(),
                 Code::TrailingBytes, 24);
}

TEST_CASE("accepted edges") {
  SUBCASE("no attributes at all") {
    auto r = wire::decode(MessageBuilder().build());
    REQUIRE(r.has_value());
    CHECK(*r == nsenter::Bootstrap{});
  }
  SUBCASE("last attribute without its padding") {
    auto r = wire::decode(MessageBuilder().attr(kOomScoreAdj, std::string("-5\0", 3), -1, false).build());
    REQUIRE(r.has_value());
    CHECK(r->oom_score_adj == -5);
  }
  SUBCASE("flags, seq and pid are ignored") {
    std::string msg = MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).build();
    msg[6] = '\x55';
    msg[12] = '\x77';
    auto r = wire::decode(msg);
    REQUIRE(r.has_value());
    CHECK(r->clone_flags == nsenter::NsSet{nsenter::NsKind::pid});
  }
  SUBCASE("attributes in any order") {
    auto r = wire::decode(MessageBuilder().u32(kRootlessEuid, 1).str(kNsPaths, "time:/t").u32(kCloneFlags, 0).build());
    REQUIRE(r.has_value());
    CHECK(r->rootless_euid == true);
    CHECK(r->ns_paths.at(0).kind == nsenter::NsKind::time);
  }
  SUBCASE("a path with ':' after the first") {
    auto r = wire::decode(ns_paths("net:/run/netns/a:b"));
    REQUIRE(r.has_value());
    CHECK(r->ns_paths.at(0).path == "/run/netns/a:b");
  }
}

TEST_CASE("error text names the cause, the place and the value") {
  const Error e = decode_error(ns_paths("net:/a,mount:/b"));
  CHECK(nsenter::to_string(e) == "decode bootstrap: unknown namespace type: mount (at byte 27)");
}

TEST_CASE("runc 1.2 profile: attribute 27290 carries time-namespace offsets") {
  const auto runc12 = wire::Profile::Runc12;
  auto offsets = [](std::string_view text) { return MessageBuilder().str(kMountSources, text).build(); };
  auto r = wire::decode(offsets("boottime -5 999999999\nmonotonic 86400 0\n"), runc12);
  REQUIRE_MESSAGE(r.has_value(), nsenter::to_string(r.error()));
  CHECK(r->time_offsets == std::vector<nsenter::TimeOffset>{{nsenter::Clock::boottime, -5, 999999999},
                                                             {nsenter::Clock::monotonic, 86400, 0}});
  CHECK_FALSE(r->mount_sources.has_value());
  auto min = wire::decode(offsets("monotonic -9223372036854775808 0\n"), runc12);
  REQUIRE(min.has_value());
  CHECK(min->time_offsets.at(0).secs == INT64_MIN);

  auto expect12 = [&](std::string_view text, std::uint32_t offset, std::string_view detail) {
    auto e = wire::decode(offsets(text), runc12);
    REQUIRE_MESSAGE(!e.has_value(), text);
    CHECK(e.error().code == Code::BadTimeOffsets);
    CHECK(e.error().offset == offset);
    CHECK(e.error().detail_view() == detail);
  };
  expect12("", 20, "empty");
  expect12("realtime 1 0\n", 20, "realtime 1 0");
  expect12("monotonic 1 1000000000\n", 20, "monotonic 1 1000000000");
  expect12("monotonic 1\n", 20, "monotonic 1");
  expect12("monotonic 1 0", 20, "monotonic 1 0");
  expect12("monotonic 9223372036854775808 0\n", 20, "monotonic 9223372036854775808 0");
  expect12("monotonic +1 0\n", 20, "monotonic +1 0");
  expect12("boottime 1 0\nboottime 2 0\n", 33, "boottime given twice");
  // The same bytes mean mount sources to a runc 1.1 peer, and are malformed.
  auto as11 = wire::decode(offsets("monotonic 1 0\n"));
  REQUIRE(!as11.has_value());
  CHECK(as11.error().code == Code::BadMountSources);
}
