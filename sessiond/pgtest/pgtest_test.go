package pgtest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Without the binaries Start fails, naming make deps (tests then fail
// rather than skip).
func TestMissingBinariesSayMakeDeps(t *testing.T) {
	saved := debianBinDirs
	t.Cleanup(func() { debianBinDirs = saved })
	debianBinDirs = t.TempDir() + "/none/*/bin"
	t.Setenv("PG_BINDIR", "")
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("got %v", err)
	}
}

func TestStartAcceptsConnectionsAndStopRemovesEverything(t *testing.T) {
	s := StartT(t)
	if !strings.Contains(s.DSN(), s.dir) {
		t.Fatalf("the socket is not in the server's folder: %s", s.DSN())
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		t.Fatal(err)
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %d %v", one, err)
	}
	conn.Close(ctx)
	s.Stop()
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("the folder is still there: %v", err)
	}
	select {
	case <-s.exited:
	default:
		t.Fatal("the server still runs")
	}
}
