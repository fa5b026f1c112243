// SPDX-License-Identifier: Apache-2.0
// Bootstrap message benchmark: nsenter's read_message()+decode_view() against
// runc 1.1's nl_parse() on the same bytes, from the same socketpair, in the
// same process, rounds interleaved; plus nsenter's in-memory decode_view(),
// owning decode() and encode(). Prints medians over rounds and the ratio as
// a Markdown table.
//
//   wire_bench [ROUNDS [OPS_PER_ROUND]] MESSAGE.bin...
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench/runc_nl_parse_shim.h"
#include "nsenter/message_reader.hpp"
#include "nsenter/wire.hpp"

// Counts heap allocations of both sides: glibc lets the executable interpose
// malloc, and operator new goes through it.
extern "C" void* __libc_malloc(std::size_t);
static unsigned long g_mallocs = 0;
extern "C" void* malloc(std::size_t n) {
  ++g_mallocs;
  return __libc_malloc(n);
}

namespace {

double now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Socket {
  int fds[2];
  Socket() {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  }
  ~Socket() {
    close(fds[0]);
    close(fds[1]);
  }
  void send(const std::string& m) const {
    if (write(fds[1], m.data(), m.size()) != ssize_t(m.size())) std::abort();
  }
};

volatile unsigned g_sink;

// Time per op of `op` over `ops` iterations.
template <class Op>
double time_per_op(int ops, Op&& op) {
  const double t0 = now_ns();
  for (int i = 0; i < ops; ++i) op();
  return (now_ns() - t0) / ops;
}

template <class Op>
unsigned long mallocs_per_op(Op&& op) {
  const unsigned long before = g_mallocs;
  op();
  return g_mallocs - before;
}

}  // namespace

int main(int argc, char** argv) {
  int arg = 1;
  int rounds = 15, ops = 20000;
  if (arg < argc && std::isdigit(static_cast<unsigned char>(argv[arg][0]))) rounds = std::atoi(argv[arg++]);
  if (arg < argc && std::isdigit(static_cast<unsigned char>(argv[arg][0]))) ops = std::atoi(argv[arg++]);
  if (arg >= argc) {
    std::fprintf(stderr, "usage: wire_bench [ROUNDS [OPS]] MESSAGE.bin...\n");
    return 2;
  }
  std::printf("| message | bytes | runc nl_parse (ns) | nsenter read+decode_view (ns) | ratio runc/nsenter | "
              "mallocs runc / nsenter | in memory: decode_view / decode / encode (ns) |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (; arg < argc; ++arg) {
    std::ifstream in(argv[arg], std::ios::binary);
    const std::string msg((std::istreambuf_iterator<char>(in)), {});
    auto config = nsenter::wire::decode(msg);
    if (!config) {
      std::fprintf(stderr, "%s: %s\n", argv[arg], nsenter::to_string(config.error()).c_str());
      return 1;
    }
    Socket s;
    auto runc_op = [&] {
      s.send(msg);
      g_sink = runc_ref_nl_parse(s.fds[0]);
    };
    auto ours_op = [&] {
      s.send(msg);
      auto bytes = nsenter::read_message(s.fds[0]);
      auto c = nsenter::wire::decode_view(*bytes);
      g_sink = c->clone_flags ? c->clone_flags->clone_flags() : 0;
    };
    auto view_op = [&] {
      auto c = nsenter::wire::decode_view(nsenter::wire::ByteView(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
      g_sink = static_cast<unsigned>(c->uid_map.lines);
    };
    auto decode_op = [&] {
      auto c = nsenter::wire::decode(msg);
      g_sink = static_cast<unsigned>(c->uid_map.size());
    };
    auto encode_op = [&] {
      auto b = nsenter::wire::encode(*config);
      g_sink = static_cast<unsigned>(b->size());
    };
    // Warm up both, then interleave rounds so drift on a shared machine
    // hits both sides alike.
    time_per_op(ops / 10 + 1, runc_op);
    time_per_op(ops / 10 + 1, ours_op);
    std::vector<double> runc, ours, view, dec, enc;
    for (int r = 0; r < rounds; ++r) {
      if (r % 2 == 0) {
        runc.push_back(time_per_op(ops, runc_op));
        ours.push_back(time_per_op(ops, ours_op));
      } else {
        ours.push_back(time_per_op(ops, ours_op));
        runc.push_back(time_per_op(ops, runc_op));
      }
      view.push_back(time_per_op(ops, view_op));
      dec.push_back(time_per_op(ops, decode_op));
      enc.push_back(time_per_op(ops, encode_op));
    }
    const std::string name = std::string(argv[arg]).substr(std::string(argv[arg]).find_last_of('/') + 1);
    std::printf("| %s | %zu | %.0f | %.0f | %.2f | %lu / %lu | %.0f / %.0f / %.0f |\n", name.c_str(), msg.size(),
                median(runc), median(ours), median(runc) / median(ours), mallocs_per_op(runc_op),
                mallocs_per_op(ours_op), median(view), median(dec), median(enc));
  }
  return 0;
}
