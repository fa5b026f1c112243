// SPDX-License-Identifier: Apache-2.0
// nsenter: protecting the binary without an exec (CVE-2019-5736).
//
// Self-protection's classic move is to exec the program again from a view
// of its binary the container cannot write. That exec is a third start-up
// of the C library and the program in every protected start: about 0.5 ms
// under a hypervisor, where glibc's start-up asks `cpuid` some 70 times
// and each question exits to the host. The same protection in place:
//   1. every mapping of the executable is moved onto the view, a second
//      handle to the very same file on a read-only mount: the text is the
//      same page cache, mapped again, nothing copied; only the few data
//      pages the program has written are copied, into anonymous memory;
//   2. the kernel is told that the view is now the executable (prctl
//      PR_SET_MM_MAP's exe_fd, Linux 3.18 with CONFIG_CHECKPOINT_RESTORE;
//      CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE over the process's user
//      namespace). It refuses (EBUSY) while any mapping still names the
//      old file, so a mapping missed here fails the move instead of
//      leaving a way back to the writable binary.
// A process in the container then reaches what it would reach after the
// exec: /proc/PID/exe and /proc/PID/map_files lead to the read-only view,
// which no write passes (ETXTBSY while the program runs, EROFS after).
//
// For a single-threaded process only, checked (another thread could write
// a data page between its copy and its move, and lose the write); text
// patched at run time would be reverted to the file's.
#pragma once

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "nsenter/detail/fixed_vector.hpp"
#include "nsenter/detail/signals.hpp"
#include "nsenter/detail/threads.hpp"
#include "nsenter/detail/throwaway_child.hpp"
#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail {

// struct prctl_mm_map of <linux/prctl.h> (its ABI, here so that no libc's
// <sys/prctl.h> need agree with the kernel's header).
struct MmMap {
  std::uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
  std::uint64_t arg_start, arg_end, env_start, env_end;
  std::uint64_t auxv;  // a pointer; 0 with auxv_size 0: the auxiliary vector stays
  std::uint32_t auxv_size, exe_fd;
};
static_assert(sizeof(MmMap) == 104);
inline constexpr int kPrSetMm = 35;       // PR_SET_MM
inline constexpr int kPrSetMmMap = 14;    // PR_SET_MM_MAP
inline constexpr std::uint32_t kNoExeFd = 0xfffffffe;  // never an open fd: the kernel's EBADF comes last

// The fields PR_SET_MM_MAP sets, as the kernel has them now: passed back
// unchanged, only the executable changes. From /proc/self/stat (fields
// 26-28 and 45-51) and brk(2); with the thread count (field 20) from the
// same read, for a caller that needs it.
inline int current_mm_map(MmMap& map, unsigned long long* threads = nullptr) noexcept {
  constexpr int kFields[] = {20, 26, 27, 28, 45, 46, 47, 48, 49, 50, 51};
  unsigned long long v[std::size(kFields)] = {};
  if (!read_self_stat(kFields, v)) return EIO;
  if (threads != nullptr) *threads = v[0];
  map = MmMap{};
  map.start_code = v[1];
  map.end_code = v[2];
  map.start_stack = v[3];
  map.start_data = v[4];
  map.end_data = v[5];
  map.start_brk = v[6];
  map.arg_start = v[7];
  map.arg_end = v[8];
  map.env_start = v[9];
  map.env_end = v[10];
  map.brk = static_cast<std::uint64_t>(::syscall(SYS_brk, 0));
  return 0;
}

inline int set_mm_map(const MmMap& map) noexcept {
  return ::prctl(kPrSetMm, kPrSetMmMap, &map, sizeof map, 0) == 0 ? 0 : errno;
}

// The kernel's answer to whether it would take `map` with an exe_fd: 0,
// else its errno; the fd it is given cannot be open, and the kernel checks
// it last (EBADF). Under a seccomp filter, asked by a throwaway child
// (throwaway_child.hpp): `killed_by` is then the signal a filter that
// kills on PR_SET_MM sent it, and the answer EPERM.
struct MoveAnswer {
  int err = 0;
  int killed_by = 0;
};
inline MoveAnswer mm_map_refused(MmMap map) noexcept {
  map.exe_fd = kNoExeFd;
  auto ask = [](MmMap& m) {
    const int err = set_mm_map(m);
    m.exe_fd = static_cast<std::uint32_t>(err);  // the answer, where the copy can leave it
  };
  int err;
  if (seccomp_filtered()) {
    const int killed = ask_in_throwaway_child<MmMap>(ask, map);
    if (killed != 0) return {killed < 0 ? -killed : EPERM, killed > 0 ? killed : 0};
    err = static_cast<int>(map.exe_fd);
  } else {
    err = set_mm_map(map);
  }
  return {err == EBADF ? 0 : (err == 0 ? EINVAL : err), 0};
}

// The kernel's own AT_PHDR for this process (from /proc/self/auxv: what
// exec(2) recorded, which no loader can rewrite), or 0.
inline std::uintptr_t kernel_at_phdr() noexcept {
  UniqueFd fd(::open("/proc/self/auxv", O_RDONLY | O_CLOEXEC));
  if (!fd) return 0;
  ElfW(auxv_t) entries[64];
  std::size_t size = 0;
  char* bytes = reinterpret_cast<char*>(entries);
  while (size < sizeof entries) {
    const ssize_t n = ::read(fd.get(), bytes + size, sizeof entries - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<std::size_t>(n);
  }
  for (std::size_t i = 0; i < size / sizeof entries[0] && entries[i].a_type != AT_NULL; ++i)
    if (entries[i].a_type == AT_PHDR) return entries[i].a_un.a_val;
  return 0;
}

// True when this program was loaded by the dynamic loader run as a command
// (`/lib64/ld-linux-x86-64.so.2 ./program`): /proc/self/exe is then the
// loader, and the program's image is mapped from another file. The loader
// rewrites its copy of AT_PHDR to the program's; the kernel's record still
// names the loader's own headers.
inline bool runs_through_dynamic_loader() noexcept {
  const std::uintptr_t kernels = kernel_at_phdr();
  return kernels != 0 && kernels != ::getauxval(AT_PHDR);
}

// What the kernel mapped from the executable's file: one range per
// PT_LOAD with file contents, and the RELRO range the loader made
// read-only after relocating.
struct ImageRange {
  std::uintptr_t start = 0, end = 0;  // page-aligned
  off_t offset = 0;                   // of `start` in the file
  int prot = 0;
  bool written = false;  // PF_W: its pages may differ from the file's
};
struct LoadedImage {
  FixedVector<ImageRange, 16> ranges;
  std::uintptr_t relro_start = 0, relro_end = 0;
};

// The running executable's layout from its program headers as the loader
// reports them (dl_iterate_phdr's first object is the executable, with its
// load bias, in static and static-pie programs too), or the reason it
// cannot be trusted: checked against the ELF header its first segment
// maps, read only once mincore(2) says that page is mapped.
inline std::string_view loaded_image(LoadedImage& out) noexcept {
  struct Executable {
    const ElfW(Phdr)* phdr = nullptr;
    std::size_t count = 0;
    std::uintptr_t bias = 0;
  } exe;
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto* e = static_cast<Executable*>(data);
        *e = {info->dlpi_phdr, info->dlpi_phnum, info->dlpi_addr};
        return 1;  // the first is the executable: stop
      },
      &exe);
  const std::uintptr_t page = ::getauxval(AT_PAGESZ);
  const ElfW(Phdr)* phdr = exe.phdr;
  const std::size_t count = exe.count;
  const std::uintptr_t bias = exe.bias;
  if (phdr == nullptr || count == 0 || page == 0 || (page & (page - 1)) != 0) return "no program headers for the executable";
  if (reinterpret_cast<std::uintptr_t>(phdr) != ::getauxval(AT_PHDR)) return "the loader's first object is not the executable";
  const ElfW(Phdr)* first = nullptr;  // the PT_LOAD that maps the ELF header
  for (std::size_t i = 0; i < count && first == nullptr; ++i)
    if (phdr[i].p_type == PT_LOAD && phdr[i].p_offset == 0) first = &phdr[i];
  if (first == nullptr) return "no PT_LOAD maps the ELF header";
  const std::uintptr_t header = bias + first->p_vaddr;
  unsigned char resident = 0;
  if (::mincore(reinterpret_cast<void*>(header & ~(page - 1)), page, &resident) != 0) return "the ELF header is not mapped";
  const auto* ehdr = reinterpret_cast<const ElfW(Ehdr)*>(header);
  if (std::memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 || ehdr->e_phnum != count ||
      header + ehdr->e_phoff != reinterpret_cast<std::uintptr_t>(phdr))
    return "the program headers do not match the ELF header";
  for (std::size_t i = 0; i < count; ++i) {
    const ElfW(Phdr)& p = phdr[i];
    if (p.p_type == PT_GNU_RELRO) {
      // As the loader rounds it: the start down, the end down too.
      out.relro_start = (bias + p.p_vaddr) & ~(page - 1);
      out.relro_end = (bias + p.p_vaddr + p.p_memsz) & ~(page - 1);
    }
    if (p.p_type != PT_LOAD || p.p_filesz == 0) continue;
    if ((p.p_vaddr - p.p_offset) % page != 0) return "a PT_LOAD whose address and offset differ in the page";
    ImageRange r;
    r.start = (bias + p.p_vaddr) & ~(page - 1);
    r.end = (bias + p.p_vaddr + p.p_filesz + page - 1) & ~(page - 1);
    r.offset = static_cast<off_t>(p.p_offset & ~(page - 1));
    r.prot = ((p.p_flags & PF_R) ? PROT_READ : 0) | ((p.p_flags & PF_W) ? PROT_WRITE : 0) | ((p.p_flags & PF_X) ? PROT_EXEC : 0);
    r.written = (p.p_flags & PF_W) != 0;
    if (out.ranges.full()) return "more than 16 PT_LOAD segments";
    out.ranges.push_back(r);
  }
  if (out.ranges.empty()) return "no PT_LOAD with file contents";
  return {};
}

// A copy of a written range, word by word: the range holds the program's
// globals and, under AddressSanitizer, the poisoned redzones between them,
// which its memcpy would report; volatile keeps the compiler from turning
// the loop back into a memcpy call.
__attribute__((no_sanitize("address"))) inline void copy_words(void* to, const void* from, std::size_t size) noexcept {
  auto* d = static_cast<volatile std::uint64_t*>(to);
  const auto* s = static_cast<const volatile std::uint64_t*>(from);
  for (std::size_t i = 0; i < size / sizeof(std::uint64_t); ++i) d[i] = s[i];
}

// Moves one range onto `file`: the file's pages again where the program
// never writes, else a copy of what is there now into anonymous memory,
// put in place by one mremap (nothing can write in between: one thread,
// every signal blocked).
inline int move_range(const ImageRange& r, int file) noexcept {
  void* at = reinterpret_cast<void*>(r.start);
  const std::size_t size = r.end - r.start;
  if (!r.written) return ::mmap(at, size, r.prot, MAP_PRIVATE | MAP_FIXED, file, r.offset) == MAP_FAILED ? errno : 0;
  void* copy = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (copy == MAP_FAILED) return errno;
  copy_words(copy, at, size);
  // The segment's own protection before the move: one that is also
  // executable (a linker script's "awx" section) runs code from the copy.
  if (r.prot != (PROT_READ | PROT_WRITE) && ::mprotect(copy, size, r.prot) != 0) {
    const int err = errno;
    ::munmap(copy, size);
    return err;
  }
  if (::mremap(copy, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, at) == MAP_FAILED) {
    const int err = errno;
    ::munmap(copy, size);
    return err;
  }
  return 0;
}

}  // namespace detail

// 0 when this process may name its own executable (PR_SET_MM_MAP with an
// exe_fd), else the errno that says why not: EPERM without CAP_SYS_ADMIN
// or CAP_CHECKPOINT_RESTORE over its user namespace (or under a seccomp
// profile that refuses it), EINVAL on a kernel without
// CONFIG_CHECKPOINT_RESTORE. Changes nothing: the kernel checks the fd
// last, and an fd number that cannot be open fails there (EBADF).
inline int exe_rebase_refused() noexcept {
  detail::MmMap map;
  if (const int err = detail::current_mm_map(map)) return err;
  return detail::mm_map_refused(map).err;
}

// Makes `view` (any fd of the file /proc/self/exe names, reached through
// a read-only mount: detail::detached_read_only_view) this process's
// executable, in place, as above. On failure nothing is left half-done that
// matters: a range already moved holds the same bytes as before, and the
// executable is still the old file, so the caller may still re-exec.
inline Result<void> rebase_exe_onto(int view) noexcept {
  auto fail = [](int err, std::string_view what) { return make_sys_error(Op::SelfProtect, err, what); };
  struct stat exe {}, seen {};
  if (::stat("/proc/self/exe", &exe) != 0) return fail(errno, "stat /proc/self/exe");
  if (::fstat(view, &seen) != 0) return fail(errno, detail::detail_text("fstat the view, fd {}", view));
  if (!S_ISREG(seen.st_mode) || seen.st_dev != exe.st_dev || seen.st_ino != exe.st_ino)
    return fail(EINVAL, detail::detail_text("fd {} is not the file /proc/self/exe names", view));
  // mmap(2) and the kernel's exe_fd want a file opened for reading; the
  // view may be an O_PATH handle.
  char handle[32];
  *fmt::format_to_n(handle, sizeof handle - 1, "/proc/self/fd/{}", view).out = '\0';
  UniqueFd file(::open(handle, O_RDONLY | O_CLOEXEC));
  if (!file) return fail(errno, detail::detail_text("open {}", std::string_view(handle)));
  // Through the loader, /proc/self/exe and `view` are the loader while the
  // image below is the program's: mapping it from the view would put the
  // loader's bytes where the program runs.
  if (detail::runs_through_dynamic_loader())
    return fail(EINVAL, "run through the dynamic loader: /proc/self/exe is the loader, not the program's image");
  detail::LoadedImage image;
  if (const std::string_view why = detail::loaded_image(image); !why.empty()) return fail(EINVAL, why);
  detail::MmMap map;
  unsigned long long threads = 0;
  if (const int err = detail::current_mm_map(map, &threads)) return fail(err, "read /proc/self/stat");
  if (threads != 1)
    return fail(EINVAL, detail::detail_text("{} threads: another could write a data page between its copy and its move", threads));
  if (const auto answer = detail::mm_map_refused(map); answer.killed_by != 0)
    return fail(answer.err, detail::detail_text("PR_SET_MM_MAP, asked by a throwaway child: a seccomp filter killed it (signal {})",
                                                answer.killed_by));
  else if (answer.err != 0)
    return fail(answer.err, "PR_SET_MM_MAP: may this process name its executable?");

  const detail::AllSignalsBlocked blocked;
  for (const detail::ImageRange& r : image.ranges)
    if (const int err = detail::move_range(r, file.get()))
      return fail(err, r.written ? "move a written segment into anonymous memory" : "map a segment from the view");
  if (image.relro_end > image.relro_start &&
      ::mprotect(reinterpret_cast<void*>(image.relro_start), image.relro_end - image.relro_start, PROT_READ) != 0)
    return fail(errno, "mprotect RELRO read-only again");
  // The kernel takes every field as given: brk as it is at this call.
  map.brk = static_cast<std::uint64_t>(::syscall(SYS_brk, 0));
  map.exe_fd = static_cast<std::uint32_t>(file.get());
  if (const int err = detail::set_mm_map(map)) return fail(err, "PR_SET_MM_MAP exe_fd (EBUSY: a mapping of the old file remains)");
  return {};
}

NSENTER_END_NAMESPACE
