// SPDX-License-Identifier: Apache-2.0
// to_json()/from_json(): the shape `nsrun decode` prints and `nsrun encode`
// reads, and the errors for JSON that is not a bootstrap config.
#include "nsenter/bootstrap_json.hpp"

#include <doctest/doctest.h>

using nsenter::Bootstrap;
using nsenter::Code;
using nsenter::NsKind;

namespace {

void expect_json_error(std::string_view text, std::uint32_t offset, std::string_view detail) {
  auto r = nsenter::from_json(text);
  REQUIRE_MESSAGE(!r.has_value(), text);
  CHECK(r.error().op == nsenter::Op::ParseJson);
  CHECK(r.error().code == Code::BadJson);
  CHECK_MESSAGE(r.error().offset == offset, nsenter::to_string(r.error()));
  CHECK(r.error().detail_view() == detail);
}

}  // namespace

TEST_CASE("to_json writes every field, absent ones omitted") {
  CHECK(nsenter::to_json(Bootstrap{}) == "{}");
  Bootstrap b;
  b.clone_flags = nsenter::NsSet{NsKind::user, NsKind::pid};
  b.ns_paths = {{NsKind::net, "/proc/1/ns/net"}, {NsKind::uts, "/run/a\"b\\c\n"}};
  b.uid_map = {{0, 1000, 1}, {1, 100000, 65536}};
  b.gid_map = {{0, 1000, 1}};
  b.uid_map_helper = "/usr/bin/newuidmap";
  b.gid_map_helper = "/usr/bin/newgidmap";
  b.setgroups = false;
  b.oom_score_adj = -999;
  b.rootless_euid = true;
  b.mount_sources = std::vector<std::string>{"/src", "", std::string("/\x01", 2)};
  CHECK(nsenter::to_json(b) ==
        R"({"clone_flags": 805306368, )"
        R"("namespaces": [{"type": "net", "path": "/proc/1/ns/net"}, {"type": "uts", "path": "/run/a\"b\\c\n"}], )"
        R"("uid_map": [{"inside": 0, "outside": 1000, "count": 1}, {"inside": 1, "outside": 100000, "count": 65536}], )"
        R"("gid_map": [{"inside": 0, "outside": 1000, "count": 1}], )"
        R"("uid_map_helper": "/usr/bin/newuidmap", "gid_map_helper": "/usr/bin/newgidmap", )"
        R"("setgroups": false, "oom_score_adj": -999, "rootless_euid": true, )"
        R"("mount_sources": ["/src", "", "/\u0001"]})");
  auto back = nsenter::from_json(nsenter::to_json(b));
  REQUIRE(back.has_value());
  CHECK(*back == b);
}

TEST_CASE("from_json accepts keys in any order, whitespace and escapes") {
  auto r = nsenter::from_json(
      "{ \"rootless_euid\" : true,\n \"namespaces\": [ {\"path\": \"/p\\u00e9\\/x\", \"type\": \"time\"} ],"
      " \"clone_flags\": 0 }");
  REQUIRE_MESSAGE(r.has_value(), nsenter::to_string(r.error()));
  CHECK(r->rootless_euid == true);
  CHECK(r->clone_flags == nsenter::NsSet{});
  CHECK(r->ns_paths.at(0) == nsenter::NsPath{NsKind::time, "/p\xc3\xa9/x"});
}

TEST_CASE("from_json rejects what is not a bootstrap config") {
  expect_json_error("", 0, "unexpected end of input");
  expect_json_error("[]", 0, "want a JSON object");
  expect_json_error(R"({"clone_flags": 1} x)", 19, "unexpected text after the JSON value");
  expect_json_error(R"({"bogus": 1})", 10, "unknown key 'bogus'");
  expect_json_error(R"({"a": 1, "a": 2})", 9, "duplicate key");
  expect_json_error(R"({"clone_flags": 256})", 16, "clone_flags: 0x100 has bits that are not namespace flags");
  expect_json_error(R"({"clone_flags": -1})", 16, "clone_flags: want an integer in 0..4294967295");
  expect_json_error(R"({"clone_flags": 1.5})", 17, "only integers are accepted");
  expect_json_error(R"({"setgroups": 1})", 14, "setgroups: want true or false");
  expect_json_error(R"({"oom_score_adj": 1001})", 18, "oom_score_adj: want an integer in -1000..1000");
  expect_json_error(R"({"namespaces": [{"type": "mount", "path": "/a"}]})", 16, "namespaces: unknown type 'mount'");
  expect_json_error(R"({"namespaces": [{"type": "net"}]})", 16, R"(namespaces: want {"type", "path"} objects)");
  expect_json_error(R"({"uid_map": [{"inside": 0, "outside": 0, "size": 1}]})", 49, "uid_map: unknown key 'size'");
  expect_json_error(R"({"uid_map": [{"inside": 0, "outside": 0, "count": 4294967296}]})", 50,
                    "uid_map.count: want an integer in 0..4294967295");
  expect_json_error(R"({"mount_sources": [1]})", 19, "mount_sources: want a string");
  // Past int64: refused where the digits end, never wrapped into range
  // (2^64 + 4 once read as 4).
  expect_json_error(R"({"oom_score_adj": 18446744073709551620})", 38, "integer out of range");
  expect_json_error(R"({"oom_score_adj": 9223372036854775808})", 37, "integer out of range");
  expect_json_error(R"({"oom_score_adj": -9223372036854775808})", 18, "oom_score_adj: want an integer in -1000..1000");
  expect_json_error(R"({"oom_score_adj": -})", 19, "expected digits");
  expect_json_error("{\"uid_map_helper\": \"a\x01\"}", 21, "control character in string");
  expect_json_error(R"({"uid_map_helper": "\ud800"})", 20, "unpaired surrogate");
  expect_json_error(std::string(100, '[') + std::string(100, ']'), 17, "nesting too deep");
}
