// SPDX-License-Identifier: Apache-2.0
// A Go program that is both a container runtime and its container's init,
// through nsenter's C entry point (as runc's Go code uses its nsexec).
//
// The cgo preamble's constructor runs nsenter_nsexec() before the Go runtime
// starts: in a process that is not an init it returns at once and main()
// runs as the runtime; in an init it runs the stages, and only stage 2
// returns, into the Go runtime, and main() runs as the container's init.
//
// Build (tests/cmake/run.sh does this against an installed nsenter):
//
//	CGO_CFLAGS="$(pkg-config --cflags nsenter_c)" CGO_LDFLAGS="$(pkg-config --libs nsenter_c)" go build
package main

/*
#include "nsenter/c_api.h"

static int init_pipe = -1, log_pipe = -1, is_init = 0;

__attribute__((constructor(200))) static void run_nsexec(void) {
	is_init = nsenter_nsexec(&init_pipe, &log_pipe) == 1;
}

static int nsenter_is_init(void) { return is_init; }
static int nsenter_init_pipe(void) { return init_pipe; }
*/
import "C"

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// Attribute types and the message type of runc 1.1's init protocol.
const (
	initMsg      = 62000
	cloneFlags   = 27281
	uidMap       = 27283
	gidMap       = 27284
	rootlessEUID = 27287
)

// bootstrap encodes the message: a netlink header, then one attribute per
// setting, each padded to 4 bytes; strings carry their NUL.
func bootstrap(flags uint32, uid, gid int) []byte {
	var attrs []byte
	add := func(typ uint16, payload []byte) {
		head := make([]byte, 4)
		binary.LittleEndian.PutUint16(head[0:], uint16(4+len(payload)))
		binary.LittleEndian.PutUint16(head[2:], typ)
		attrs = append(attrs, head...)
		attrs = append(attrs, payload...)
		for len(attrs)%4 != 0 {
			attrs = append(attrs, 0)
		}
	}
	u32 := func(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }
	str := func(s string) []byte { return append([]byte(s), 0) }
	add(cloneFlags, u32(flags))
	add(uidMap, str(fmt.Sprintf("0 %d 1\n", uid)))
	add(gidMap, str(fmt.Sprintf("0 %d 1\n", gid)))
	rootless := uint32(0)
	if uid != 0 {
		rootless = 1
	}
	add(rootlessEUID, u32(rootless))
	head := make([]byte, 16)
	binary.LittleEndian.PutUint32(head[0:], uint32(16+len(attrs)))
	binary.LittleEndian.PutUint16(head[4:], initMsg)
	binary.LittleEndian.PutUint16(head[6:], 1) // NLM_F_REQUEST
	return append(head, attrs...)
}

// container is main() in the container's init: pid 1 of its namespace,
// root of its user namespace, with its own hostname.
func container() {
	pipe := os.NewFile(uintptr(C.nsenter_init_pipe()), "init-pipe")
	if err := syscall.Sethostname([]byte("go-example")); err != nil {
		fmt.Fprintln(pipe, "sethostname:", err)
		os.Exit(1)
	}
	host, _ := os.Hostname()
	fmt.Fprintf(pipe, "hello from pid %d, uid %d, host %s\n", os.Getpid(), os.Getuid(), host)
	os.Exit(0)
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "goinit: %s: %v\n", what, err)
	os.Exit(1)
}

func main() {
	if C.nsenter_is_init() == 1 {
		container()
	}
	// An init whose constructor did not run would start the runtime again.
	if os.Getenv("_LIBCONTAINER_INITPIPE") != "" {
		fail("_LIBCONTAINER_INITPIPE is set but this is no init", fmt.Errorf("the constructor did not run"))
	}
	// The runtime: this program again, as an init, in new user, pid, uts
	// and mount namespaces, mapping the caller to root.
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socketpair", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "init-pipe"), os.NewFile(uintptr(fds[1]), "init-pipe-child")
	cmd := exec.Command("/proc/self/exe")
	cmd.ExtraFiles = []*os.File{theirs} // fd 3 in the init
	cmd.Env = append(os.Environ(), "_LIBCONTAINER_INITPIPE=3")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fail("start the init", err)
	}
	theirs.Close()
	hello := make([]byte, 1)
	if _, err := io.ReadFull(ours, hello); err != nil || hello[0] != 0 {
		fail("handshake", err)
	}
	flags := uint32(syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNS)
	if _, err := ours.Write(bootstrap(flags, os.Getuid(), os.Getgid())); err != nil {
		fail("send bootstrap", err)
	}
	in := bufio.NewReader(ours)
	line, err := in.ReadString('\n')
	if err != nil {
		fail("read the pid line", err)
	}
	var pids struct {
		Stage1 int `json:"stage1_pid"`
		Stage2 int `json:"stage2_pid"`
	}
	if err := json.Unmarshal([]byte(line), &pids); err != nil || pids.Stage2 <= 0 {
		fail("pid line "+line, err)
	}
	said, err := in.ReadString('\n')
	if err != nil {
		fail("read the init's hello", err)
	}
	// Stage 0 is our child; stages 1 and 2 are too (CLONE_PARENT).
	if err := cmd.Wait(); err != nil {
		fail("stage 0", err)
	}
	var status syscall.WaitStatus
	for _, pid := range []int{pids.Stage1, pids.Stage2} {
		if _, err := syscall.Wait4(pid, &status, 0, nil); err != nil {
			fail(fmt.Sprintf("wait for %d", pid), err)
		}
	}
	fmt.Printf("init %d said: %s", pids.Stage2, said)
	fmt.Printf("and exited with status %d\n", status.ExitStatus())
}
