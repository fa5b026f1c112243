// SPDX-License-Identifier: Apache-2.0
// nsenter: the bootstrap config as one JSON object, for people and scripts
// (`nsrun decode`, `nsrun encode`, `--dry-run`). Absent attributes are
// omitted; from_json() refuses unknown keys and values of the wrong type.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "nsenter/bootstrap.hpp"
#include "nsenter/detail/json.hpp"
#include "nsenter/error.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

namespace detail {

inline void append_id_map(std::string& out, const std::vector<IdMapEntry>& map) {
  out += '[';
  for (std::size_t i = 0; i < map.size(); ++i) {
    if (i > 0) out += ", ";
    fmt::format_to(std::back_inserter(out), R"({{"inside": {}, "outside": {}, "count": {}}})", map[i].inside,
                   map[i].outside, map[i].count);
  }
  out += ']';
}

}  // namespace detail

// One line, keys in a fixed order:
// {"clone_flags": 2080505856, "namespaces": [{"type": "net", "path": "..."}], ...}
inline std::string to_json(const Bootstrap& b) {
  std::string out = "{";
  auto key = [&](std::string_view k) {
    if (out.size() > 1) out += ", ";
    detail::json::append_quoted(out, k);
    out += ": ";
  };
  auto boolean = [&](std::string_view k, const std::optional<bool>& v) {
    if (v) {
      key(k);
      out += *v ? "true" : "false";
    }
  };
  if (b.clone_flags) {
    key("clone_flags");
    fmt::format_to(std::back_inserter(out), "{}", b.clone_flags->clone_flags());
  }
  if (!b.ns_paths.empty()) {
    key("namespaces");
    out += '[';
    for (std::size_t i = 0; i < b.ns_paths.size(); ++i) {
      if (i > 0) out += ", ";
      out += R"({"type": )";
      detail::json::append_quoted(out, name(b.ns_paths[i].kind));
      out += R"(, "path": )";
      detail::json::append_quoted(out, b.ns_paths[i].path);
      out += '}';
    }
    out += ']';
  }
  if (!b.uid_map.empty()) {
    key("uid_map");
    detail::append_id_map(out, b.uid_map);
  }
  if (!b.gid_map.empty()) {
    key("gid_map");
    detail::append_id_map(out, b.gid_map);
  }
  if (!b.uid_map_helper.empty()) {
    key("uid_map_helper");
    detail::json::append_quoted(out, b.uid_map_helper);
  }
  if (!b.gid_map_helper.empty()) {
    key("gid_map_helper");
    detail::json::append_quoted(out, b.gid_map_helper);
  }
  boolean("setgroups", b.setgroups);
  if (b.oom_score_adj) {
    key("oom_score_adj");
    fmt::format_to(std::back_inserter(out), "{}", *b.oom_score_adj);
  }
  boolean("rootless_euid", b.rootless_euid);
  if (b.mount_sources) {
    key("mount_sources");
    out += '[';
    for (std::size_t i = 0; i < b.mount_sources->size(); ++i) {
      if (i > 0) out += ", ";
      detail::json::append_quoted(out, (*b.mount_sources)[i]);
    }
    out += ']';
  }
  if (!b.time_offsets.empty()) {
    key("time_offsets");
    out += '[';
    for (std::size_t i = 0; i < b.time_offsets.size(); ++i) {
      const TimeOffset& o = b.time_offsets[i];
      if (i > 0) out += ", ";
      fmt::format_to(std::back_inserter(out), R"({{"clock": "{}", "secs": {}, "nanosecs": {}}})", name(o.clock), o.secs,
                     o.nanosecs);
    }
    out += ']';
  }
  out += '}';
  return out;
}

namespace detail {

using json::Value;

inline Error json_error(const Value& at, std::string_view what) {
  return make_error(Op::ParseJson, Code::BadJson, at.offset, what);
}

inline Result<std::uint32_t> json_u32(const Value& v, std::string_view field) {
  if (v.type != Value::Type::Integer || v.integer < 0 || v.integer > INT64_C(0xffffffff))
    return json_error(v, fmt::format("{}: want an integer in 0..4294967295", field));
  return static_cast<std::uint32_t>(v.integer);
}

inline Result<std::string> json_string(const Value& v, std::string_view field) {
  if (v.type != Value::Type::String) return json_error(v, fmt::format("{}: want a string", field));
  return v.string;
}

inline Result<bool> json_bool(const Value& v, std::string_view field) {
  if (v.type != Value::Type::Bool) return json_error(v, fmt::format("{}: want true or false", field));
  return v.boolean;
}

inline Result<std::vector<IdMapEntry>> json_id_map(const Value& v, std::string_view field) {
  if (v.type != Value::Type::Array) return json_error(v, fmt::format("{}: want a list", field));
  std::vector<IdMapEntry> map;
  for (const Value& item : v.items) {
    if (item.type != Value::Type::Object || item.keys.size() != 3)
      return json_error(item, fmt::format("{}: want {{\"inside\", \"outside\", \"count\"}} objects", field));
    IdMapEntry e;
    for (std::size_t k = 0; k < 3; ++k) {
      const std::string& name = item.keys[k];
      std::uint32_t* slot = name == "inside" ? &e.inside : name == "outside" ? &e.outside : name == "count" ? &e.count : nullptr;
      if (slot == nullptr) return json_error(item.items[k], fmt::format("{}: unknown key '{}'", field, name));
      auto n = json_u32(item.items[k], fmt::format("{}.{}", field, name));
      if (!n) return n.error();
      *slot = *n;
    }
    map.push_back(e);
  }
  return map;
}

}  // namespace detail

// Parses what to_json() writes. Keys may come in any order; unknown keys and
// wrongly typed values are errors (Code::BadJson, offset into `text`). Values
// are range-checked here; the protocol rules (absolute paths, map ranges) are
// checked by wire::encode().
inline Result<Bootstrap> from_json(std::string_view text) {
  using detail::Value;
  auto doc = detail::json::parse(text);
  if (!doc) return doc.error();
  if (doc->type != Value::Type::Object) return detail::json_error(*doc, "want a JSON object");
  Bootstrap b;
  for (std::size_t i = 0; i < doc->keys.size(); ++i) {
    const std::string& k = doc->keys[i];
    const Value& v = doc->items[i];
    if (k == "clone_flags") {
      auto n = detail::json_u32(v, k);
      if (!n) return n.error();
      auto set = NsSet::from_clone_flags(*n);
      if (!set) return detail::json_error(v, fmt::format("clone_flags: {:#x} has bits that are not namespace flags", *n));
      b.clone_flags = *set;
    } else if (k == "namespaces") {
      if (v.type != Value::Type::Array) return detail::json_error(v, "namespaces: want a list");
      for (const Value& item : v.items) {
        if (item.type != Value::Type::Object || item.keys.size() != 2)
          return detail::json_error(item, R"(namespaces: want {"type", "path"} objects)");
        std::string type, path;
        for (std::size_t j = 0; j < 2; ++j) {
          if (item.keys[j] != "type" && item.keys[j] != "path")
            return detail::json_error(item.items[j], fmt::format("namespaces: unknown key '{}'", item.keys[j]));
          auto s = detail::json_string(item.items[j], "namespaces." + item.keys[j]);
          if (!s) return s.error();
          (item.keys[j] == "type" ? type : path) = std::move(*s);
        }
        auto kind = ns_kind_from_name(type);
        if (!kind) return detail::json_error(item, fmt::format("namespaces: unknown type '{}'", type));
        b.ns_paths.push_back(NsPath{*kind, std::move(path)});
      }
    } else if (k == "uid_map" || k == "gid_map") {
      auto map = detail::json_id_map(v, k);
      if (!map) return map.error();
      (k == "uid_map" ? b.uid_map : b.gid_map) = std::move(*map);
    } else if (k == "uid_map_helper" || k == "gid_map_helper") {
      auto s = detail::json_string(v, k);
      if (!s) return s.error();
      (k == "uid_map_helper" ? b.uid_map_helper : b.gid_map_helper) = std::move(*s);
    } else if (k == "setgroups" || k == "rootless_euid") {
      auto flag = detail::json_bool(v, k);
      if (!flag) return flag.error();
      (k == "setgroups" ? b.setgroups : b.rootless_euid) = *flag;
    } else if (k == "oom_score_adj") {
      if (v.type != Value::Type::Integer || !oom_score_adj_in_range(v.integer))
        return detail::json_error(v, "oom_score_adj: want an integer in -1000..1000");
      b.oom_score_adj = static_cast<int>(v.integer);
    } else if (k == "mount_sources") {
      if (v.type != Value::Type::Array) return detail::json_error(v, "mount_sources: want a list");
      std::vector<std::string> sources;
      for (const Value& item : v.items) {
        auto s = detail::json_string(item, "mount_sources");
        if (!s) return s.error();
        sources.push_back(std::move(*s));
      }
      b.mount_sources = std::move(sources);
    } else if (k == "time_offsets") {
      if (v.type != Value::Type::Array) return detail::json_error(v, "time_offsets: want a list");
      for (const Value& item : v.items) {
        if (item.type != Value::Type::Object || item.keys.size() != 3)
          return detail::json_error(item, R"(time_offsets: want {"clock", "secs", "nanosecs"} objects)");
        TimeOffset o;
        for (std::size_t j = 0; j < 3; ++j) {
          const std::string& name = item.keys[j];
          const Value& field = item.items[j];
          if (name == "clock") {
            auto clock = field.type == Value::Type::String ? clock_from_name(field.string) : std::nullopt;
            if (!clock) return detail::json_error(field, "time_offsets.clock: want \"monotonic\" or \"boottime\"");
            o.clock = *clock;
          } else if (name == "secs" || name == "nanosecs") {
            if (field.type != Value::Type::Integer)
              return detail::json_error(field, fmt::format("time_offsets.{}: want an integer", name));
            (name == "secs" ? o.secs : o.nanosecs) = field.integer;
          } else {
            return detail::json_error(field, fmt::format("time_offsets: unknown key '{}'", name));
          }
        }
        b.time_offsets.push_back(o);
      }
    } else {
      return detail::json_error(v, fmt::format("unknown key '{}'", k));
    }
  }
  return b;
}

NSENTER_END_NAMESPACE
