// SPDX-License-Identifier: Apache-2.0
// nsenter: a small JSON reader and string escaper for the tool-facing side
// (bootstrap JSON, log records). Integers only; depth and size are bounded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nsenter/error.hpp"
#include "nsenter/result.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail::json {

// Appends `s` as JSON string contents (no quotes). Bytes >= 0x80 pass
// through: paths are bytes, and UTF-8 ones stay readable.
template <class Sink>
void escape_to(Sink&& put, std::string_view s) {
  constexpr char hex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': put("\\\""); break;
      case '\\': put("\\\\"); break;
      case '\n': put("\\n"); break;
      case '\t': put("\\t"); break;
      case '\r': put("\\r"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0'};
          put(std::string_view(esc, 6));
        } else {
          put(std::string_view(&ch, 1));
        }
    }
  }
}

inline void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  escape_to([&](std::string_view piece) { out += piece; }, s);
  out += '"';
}

struct Value {
  enum class Type { Null, Bool, Integer, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;
  std::int64_t integer = 0;
  std::string string;
  std::vector<std::string> keys;  // Object: keys[i] names items[i]
  std::vector<Value> items;       // Array elements or Object values
  std::uint32_t offset = 0;       // where the value starts in the text
};

inline constexpr int kMaxDepth = 16;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Value> parse_document() {
    Value v;
    if (auto r = parse_value(v, 0); !r) return r.error();
    skip_ws();
    if (pos_ != text_.size()) return fail("unexpected text after the JSON value");
    return v;
  }

 private:
  Error fail(std::string_view what) const { return fail_at(pos_, what); }
  static Error fail_at(std::size_t at, std::string_view what) {
    return make_error(Op::ParseJson, Code::BadJson, static_cast<std::uint32_t>(at), what);
  }

  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool eat(char c) {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Result<void> parse_value(Value& v, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    skip_ws();
    v.offset = static_cast<std::uint32_t>(pos_);
    if (pos_ >= text_.size()) return fail("unexpected end of input");
    const char c = text_[pos_];
    if (c == '{') return parse_object(v, depth);
    if (c == '[') return parse_array(v, depth);
    if (c == '"') {
      v.type = Value::Type::String;
      return parse_string(v.string);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_integer(v);
    if (literal("true")) {
      v.type = Value::Type::Bool;
      v.boolean = true;
      return {};
    }
    if (literal("false")) {
      v.type = Value::Type::Bool;
      return {};
    }
    if (literal("null")) return {};
    return fail("expected a JSON value");
  }

  Result<void> parse_object(Value& v, int depth) {
    v.type = Value::Type::Object;
    ++pos_;
    if (eat('}')) return {};
    do {
      skip_ws();
      if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a string key");
      const std::size_t key_at = pos_;
      std::string key;
      if (auto r = parse_string(key); !r) return r;
      for (const auto& k : v.keys)
        if (k == key) return fail_at(key_at, "duplicate key");
      if (!eat(':')) return fail("expected ':'");
      Value item;
      if (auto r = parse_value(item, depth + 1); !r) return r;
      v.keys.push_back(std::move(key));
      v.items.push_back(std::move(item));
    } while (eat(','));
    if (!eat('}')) return fail("expected ',' or '}'");
    return {};
  }

  Result<void> parse_array(Value& v, int depth) {
    v.type = Value::Type::Array;
    ++pos_;
    if (eat(']')) return {};
    do {
      Value item;
      if (auto r = parse_value(item, depth + 1); !r) return r;
      v.items.push_back(std::move(item));
    } while (eat(','));
    if (!eat(']')) return fail("expected ',' or ']'");
    return {};
  }

  // The extent here, the value by the library's one parser.
  Result<void> parse_integer(Value& v) {
    v.type = Value::Type::Integer;
    const std::size_t begin = pos_;
    if (text_[pos_] == '-') ++pos_;
    const std::size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    if (pos_ == digits) return fail("expected digits");
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
      return fail("only integers are accepted");
    const auto value = parse_decimal<std::int64_t>(text_.substr(begin, pos_ - begin));
    if (!value) return fail("integer out of range");
    v.integer = *value;
    return {};
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  Result<std::uint32_t> parse_hex4() {
    if (text_.size() - pos_ < 4) return fail("short \\u escape");
    std::uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = hex_digit(text_[pos_++]);
      if (d < 0) return fail("bad \\u escape");
      cp = cp * 16 + static_cast<std::uint32_t>(d);
    }
    return cp;
  }

  Result<void> parse_string(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return {};
      if (static_cast<unsigned char>(c) < 0x20) return fail_at(pos_ - 1, "control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      const std::size_t esc_at = pos_ - 1;
      if (pos_ >= text_.size()) break;
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          auto cp = parse_hex4();
          if (!cp) return cp.error();
          std::uint32_t code = *cp;
          if (code >= 0xd800 && code < 0xdc00) {
            if (!literal("\\u")) return fail_at(esc_at, "unpaired surrogate");
            auto low = parse_hex4();
            if (!low) return low.error();
            if (*low < 0xdc00 || *low >= 0xe000) return fail_at(esc_at, "unpaired surrogate");
            code = 0x10000 + ((code - 0xd800) << 10) + (*low - 0xdc00);
          } else if (code >= 0xdc00 && code < 0xe000) {
            return fail_at(esc_at, "unpaired surrogate");
          }
          put_utf8(out, code);
          break;
        }
        default: return fail_at(esc_at, "bad escape");
      }
    }
    return fail("unterminated string");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

inline Result<Value> parse(std::string_view text) { return Parser(text).parse_document(); }

}  // namespace detail::json
NSENTER_END_NAMESPACE
