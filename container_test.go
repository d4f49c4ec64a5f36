package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nonrootUID is distroless's nonroot user, which the Dockerfile runs as.
const nonrootUID = 65532

// TestContainerContract proves what the Dockerfile's distroless image relies
// on, without Docker: a CGO_ENABLED=0 binary in an otherwise empty root
// directory (chroot: the binary, CA certificates, an /etc/passwd entry and a
// writable /data, nothing else — no shell, no libc, no /tmp) runs as uid
// 65532 with the image's environment, answers /healthz and /readyz, `privilege
// healthcheck` (the HEALTHCHECK) succeeds inside the same root, and SIGTERM
// drains it cleanly (exit 0). Needs root for chroot: CI runs as root; elsewhere
// the test skips with a message (and fails under CI=true).
func TestContainerContract(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the container contract test needs root (chroot, setuid) and CI must run it")
		}
		t.Skip("the container contract test needs root (chroot, setuid); run it as root or under CI")
	}
	if testing.Short() {
		t.Skip("container contract test (builds the binary) skipped in -short mode")
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "usr", "local", "bin", "privilege")
	// The Dockerfile's build, flags included.
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatalf("host CA bundle: %v", err)
	}
	for path, content := range map[string]string{
		"etc/ssl/certs/ca-certificates.crt": string(certs),
		"etc/passwd":                        "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(root, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, nonrootUID, nonrootUID); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	env := []string{"PRIVILEGE_ADDR=:" + port, "PRIVILEGE_DATA_DIR=/data"} // the image's ENV
	inRoot := func(args ...string) *exec.Cmd {
		cmd := exec.Command("/usr/local/bin/privilege", args...)
		cmd.Dir = "/"
		cmd.Env = env
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: nonrootUID, Gid: nonrootUID}}
		return cmd
	}

	server := inRoot("serve")
	var stdout, stderr lockedBuffer
	server.Stdout, server.Stderr = &stdout, &stderr
	if err := server.Start(); err != nil {
		t.Fatalf("start in the chroot: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = server.Process.Kill()
			<-exited
		}
	})
	base := "http://127.0.0.1:" + port
	waitLive(t, base)
	waitHealthy(t, base)
	if out, err := inRoot("healthcheck").CombinedOutput(); err != nil {
		t.Fatalf("privilege healthcheck in the chroot: %v\n%s", err, out)
	}
	for _, f := range []string{"privilege.db", "secret.key"} {
		st, err := os.Stat(filepath.Join(data, f))
		if err != nil {
			t.Fatalf("/data/%s: %v", f, err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		if sys.Uid != nonrootUID || st.Mode().Perm() != 0o600 {
			t.Errorf("/data/%s: owner %d mode %v, want %d and 0600", f, sys.Uid, st.Mode().Perm(), nonrootUID)
		}
	}

	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("after SIGTERM: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit within 20 s of SIGTERM\nstdout:\n%s", stdout.String())
	}
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var entry struct {
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		msgs = append(msgs, entry.Msg)
	}
	if got := fmt.Sprint(msgs); !strings.Contains(got, "shutting down") || msgs[len(msgs)-1] != "stopped" {
		t.Fatalf("log does not show a clean drain: %s", got)
	}
	if stderr.String() != "" {
		t.Errorf("stderr: %s", stderr.String())
	}
}
