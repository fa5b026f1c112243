// SPDX-License-Identifier: Apache-2.0
// nsenter: what ps shows for each stage of an init (prctl PR_SET_NAME, at
// most 15 bytes). runc's names by default (Policies::Names); a runtime may
// give its own for one start in _NSENTER_STAGE_NAMES=PARENT,CHILD,INIT
// (LaunchOptions::stage_names), so that a tool's processes carry the
// tool's name while a runc parent, which never sets it, still sees runc's.
#pragma once

#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include "nsenter/error.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// runc's: what its tooling and its users look for.
struct RuncStageNames {
  static constexpr const char* parent = "runc:[0:PARENT]";
  static constexpr const char* child = "runc:[1:CHILD]";
  static constexpr const char* init = "runc:[2:INIT]";
};

inline constexpr std::size_t kMaxStageNameBytes = 15;  // TASK_COMM_LEN less its NUL

// One start's names, in fixed storage (read before any clone, used after).
struct StageNameTexts {
  std::array<char, kMaxStageNameBytes + 1> parent{}, child{}, init{};
  bool given = false;  // else the pipeline's Names policy
};

// Why `name` cannot be a stage's name, or empty: 1 to 15 bytes, printable
// ASCII, no ',' (the variable's separator) and no space (ps's columns).
constexpr std::string_view why_not_a_stage_name(std::string_view name) noexcept {
  if (name.empty()) return "empty";
  if (name.size() > kMaxStageNameBytes) return "longer than 15 bytes";
  for (char c : name)
    if (c <= ' ' || c > '~' || c == ',') return "not printable ASCII without spaces or commas";
  return {};
}

// `value` of the variable `var`: unset or empty gives none; else exactly
// three names, each one why_not_a_stage_name accepts.
inline Result<StageNameTexts> parse_stage_names(const char* var, const char* value) noexcept {
  StageNameTexts out;
  if (value == nullptr || *value == '\0') return out;
  const std::string_view text(value);
  std::array<char, kMaxStageNameBytes + 1>* slots[] = {&out.parent, &out.child, &out.init};
  std::size_t from = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const std::size_t comma = text.find(',', from);
    const bool last = i == 2;
    if (last != (comma == std::string_view::npos))
      return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                        detail::detail_text("{}={}: not three names PARENT,CHILD,INIT", var, text));
    const std::string_view name = text.substr(from, last ? std::string_view::npos : comma - from);
    if (const std::string_view why = why_not_a_stage_name(name); !why.empty())
      return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                        detail::detail_text("{}={}: name {} is {}", var, text, i + 1, why));
    std::memcpy(slots[i]->data(), name.data(), name.size());
    from = comma + 1;
  }
  out.given = true;
  return out;
}

NSENTER_END_NAMESPACE
