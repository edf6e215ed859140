// Package pgtest starts a throwaway PostgreSQL server for tests: initdb in a
// temporary folder, the server listening only on a unix socket in that
// folder (named by a free port number), everything removed when stopped.
// The binaries come from Debian's postgresql package (`make deps`).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running throwaway PostgreSQL.
type Server struct {
	dir, sockDir string
	port         int
	cmd          *exec.Cmd
	exited       chan struct{}
	stopOnce     sync.Once
	log          *os.File
}

// MissingHint is what a test prints when PostgreSQL is not installed.
const MissingHint = "PostgreSQL server binaries (initdb, postgres) not found: run `make deps` (it installs Debian's postgresql package)"

// debianBinDirs is where Debian's postgresql package puts the server.
var debianBinDirs = "/usr/lib/postgresql/*/bin"

// binDir finds initdb and postgres: $PG_BINDIR, Debian's
// /usr/lib/postgresql/<version>/bin (newest first), then $PATH.
func binDir() (string, error) {
	var dirs []string
	if d := os.Getenv("PG_BINDIR"); d != "" {
		dirs = append(dirs, d)
	}
	versions, _ := filepath.Glob(debianBinDirs)
	for i := len(versions) - 1; i >= 0; i-- {
		dirs = append(dirs, versions[i])
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New(MissingHint)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// runAs is the account the server runs as: PostgreSQL refuses to run as
// root, so under root it is Debian's "postgres" user.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as (%v): %s", err, MissingHint)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort is a TCP port nobody listens on; the server listens on no TCP
// port, but the number names its socket file and must not clash with a
// system server's.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs initdb and the server, and waits until it accepts connections.
func Start(ctx context.Context) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "wasmeow-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, sockDir: filepath.Join(dir, "sock"), exited: make(chan struct{})}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	if err := os.Mkdir(s.sockDir, 0o700); err != nil {
		return fail(err)
	}
	if cred != nil {
		for _, p := range []string{dir, s.sockDir} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return fail(err)
			}
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v: %s", err, out))
	}
	if s.port, err = freePort(); err != nil {
		return fail(err)
	}
	if s.log, err = os.Create(filepath.Join(dir, "server.log")); err != nil {
		return fail(err)
	}
	// fsync off and no TCP: a test database that dies with the test.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(s.port), "-k", s.sockDir,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	s.cmd.SysProcAttr = serverProcAttr(cred)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("starting postgres: %w", err))
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	sock := filepath.Join(s.sockDir, fmt.Sprintf(".s.PGSQL.%d", s.port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			// The socket exists before recovery ends; pgx retries nothing, so
			// wait for the "ready" line as well.
			if b, _ := os.ReadFile(s.log.Name()); strings.Contains(string(b), "ready to accept connections") {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			b, _ := os.ReadFile(s.log.Name())
			return fail(fmt.Errorf("postgres exited at start: %s", b))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log.Name())
			return fail(fmt.Errorf("postgres did not start within 30 s: %s", b))
		}
	}
}

// DSN is a connection string for database "postgres" as the superuser.
func (s *Server) DSN() string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", s.sockDir, s.port)
}

// Stop ends the server (fast shutdown) and removes its folder.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
			select {
			case <-s.exited:
			case <-time.After(10 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.exited
			}
		}
		if s.log != nil {
			s.log.Close()
		}
		os.RemoveAll(s.dir)
	})
}

// StartT starts a server for t and stops it when t ends. Missing binaries
// fail the test (never a silent skip): the suite is meant to run them.
func StartT(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx)
	if err != nil {
		t.Fatalf("throwaway PostgreSQL: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}
