// Command wasmeow-sessiond is wasmeow's session service for a fleet of
// browsers, in front of PostgreSQL (docs/FLEET.md):
//
//	wasmeow-sessiond serve -dsn postgres://... [-listen :8480]
//	wasmeow-sessiond tenant-add -dsn ... -name acme [-mode native|e2e]
//	wasmeow-sessiond export -dsn ... -tenant acme -session alice (-sqlite whatsmeow.db | -postgres DSN) [-takeover] [-delete]
//	wasmeow-sessiond import -dsn ... -tenant acme -session alice (-sqlite whatsmeow.db | -postgres DSN) [-jid JID] [-delete]
//	wasmeow-sessiond dev-postgres      (a throwaway PostgreSQL, for trying it and for tests)
//
// The database address comes from -dsn or $WASMEOW_SESSIOND_DSN.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // whatsmeow's sqlstore on PostgreSQL
	_ "github.com/mattn/go-sqlite3"    // whatsmeow's sqlstore on sqlite
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/sessionconv"
	"github.com/wasmeow/wasmeow/sessiond"
	"github.com/wasmeow/wasmeow/sessiond/pgtest"
)

const usage = `usage:
  wasmeow-sessiond serve -dsn DSN [-listen ADDR] [-allow-origin ORIGIN] [-max-body BYTES] [-tls-cert FILE -tls-key FILE] [-metrics-token TOKEN]
  wasmeow-sessiond tenant-add -dsn DSN -name NAME [-mode native|e2e]
  wasmeow-sessiond export -dsn DSN -tenant NAME -session ID (-sqlite FILE | -postgres DSN) [-takeover] [-delete]
  wasmeow-sessiond import -dsn DSN -tenant NAME -session ID (-sqlite FILE | -postgres DSN) [-jid JID] [-delete]
  wasmeow-sessiond dev-postgres
DSN defaults to $WASMEOW_SESSIOND_DSN (e.g. postgres://user:pass@host/db?pool_max_conns=20).`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "tenant-add":
		err = tenantAdd(ctx, os.Args[2:])
	case "export":
		err = export(ctx, os.Args[2:])
	case "import":
		err = importNative(ctx, os.Args[2:])
	case "dev-postgres":
		err = devPostgres(ctx)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmeow-sessiond:", err)
		os.Exit(1)
	}
}

func dsnFlag(fs *flag.FlagSet) *string {
	return fs.String("dsn", os.Getenv("WASMEOW_SESSIOND_DSN"), "PostgreSQL connection string")
}

func parse(fs *flag.FlagSet, args []string, dsn *string) {
	fs.Usage = func() { fmt.Fprintln(os.Stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	if *dsn == "" {
		fmt.Fprintln(os.Stderr, "wasmeow-sessiond: no database: pass -dsn or set WASMEOW_SESSIOND_DSN")
		os.Exit(2)
	}
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dsn := dsnFlag(fs)
	listen := fs.String("listen", "127.0.0.1:8480", "address to listen on (port 0: any free port)")
	origin := fs.String("allow-origin", "*", "Access-Control-Allow-Origin for pages on other origins (empty: none)")
	maxBody := fs.Int64("max-body", sessiond.DefaultLimits.MaxBody, "largest request body in bytes")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS (and HTTP/2, which browsers speak only over TLS) with this certificate (PEM; with -tls-key)")
	tlsKey := fs.String("tls-key", "", "the private key of -tls-cert (PEM)")
	metricsToken := fs.String("metrics-token", os.Getenv("WASMEOW_SESSIOND_METRICS_TOKEN"), "bearer token of GET /metrics (calls, errors and latencies per operation, the database pool); empty: no /metrics")
	parse(fs, args, dsn)
	svc, err := sessiond.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer svc.Close()
	svc.AllowOrigin = *origin
	svc.Limits.MaxBody = *maxBody
	svc.MetricsToken = *metricsToken
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	// The first line of stdout says where it listens (tests read it).
	fmt.Printf("wasmeow-sessiond listening on %s://%s (schema version %d)\n", scheme, l.Addr(), sessiond.SchemaVersion)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	// Over TLS, net/http negotiates HTTP/2 by ALPN: one connection carries
	// every request of a page at once, where HTTP/1.1 gives a page at most 6
	// connections to one origin (docs/FLEET.md).
	if *tlsCert != "" {
		err = srv.ServeTLS(l, *tlsCert, *tlsKey)
	} else {
		err = srv.Serve(l)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func tenantAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tenant-add", flag.ContinueOnError)
	dsn := dsnFlag(fs)
	name := fs.String("name", "", "tenant name (letters, digits, _ and -)")
	mode := fs.String("mode", sessiond.ModeNative, "native (values kept as written) or e2e (sealed values only)")
	parse(fs, args, dsn)
	svc, err := sessiond.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer svc.Close()
	token, err := svc.AddTenant(ctx, *name, *mode)
	if err != nil {
		return err
	}
	// The token alone on stdout: shown once, only its hash is kept.
	fmt.Println(token)
	return nil
}

// devPostgres runs a throwaway PostgreSQL (initdb in a temporary folder)
// until stdin closes or a signal comes, printing its DSN first.
func devPostgres(ctx context.Context) error {
	pg, err := pgtest.Start(ctx)
	if err != nil {
		return err
	}
	defer pg.Stop()
	fmt.Println(pg.DSN())
	ctx, cancel := context.WithCancel(ctx)
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
	<-ctx.Done()
	return nil
}

// export hands a native tenant's session to a native whatsmeow: it takes
// the session's lease (so no page writes it meanwhile), converts it into a
// whatsmeow sqlstore (a new sqlite file, or a sqlstore on PostgreSQL) and,
// with -delete, removes it from the service so that no page runs the
// device again (one device, one home: docs/AUTHSTATE.md); else it releases
// the lease.
func export(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	dsn := dsnFlag(fs)
	tenant := fs.String("tenant", "", "tenant name")
	session := fs.String("session", "", "session (the page's clientId)")
	sqlitePath := fs.String("sqlite", "", "a new sqlstore sqlite database to create")
	pgDSN := fs.String("postgres", "", "a PostgreSQL database to write whatsmeow's sqlstore into (its tables created if missing)")
	takeover := fs.Bool("takeover", false, "take the lease even if a page holds it (that page then fails with lease_lost)")
	del := fs.Bool("delete", false, "delete the session from the service once converted")
	parse(fs, args, dsn)
	if *tenant == "" || *session == "" || (*sqlitePath == "") == (*pgDSN == "") {
		fmt.Fprintln(os.Stderr, "wasmeow-sessiond export: -tenant, -session and one of -sqlite or -postgres are required")
		os.Exit(2)
	}
	svc, err := sessiond.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer svc.Close()
	holder := "wasmeow-sessiond export"
	lease, err := svc.Acquire(ctx, *tenant, *session, holder, 5*time.Minute, *takeover)
	if err != nil {
		return err
	}
	blob, err := svc.SessionSnapshot(ctx, *tenant, *session)
	if err == nil {
		var jid types.JID
		var counts sessionconv.Counts
		where := *sqlitePath
		if *sqlitePath != "" {
			jid, counts, err = sessionconv.SnapshotToSQLite(ctx, blob, *sqlitePath, types.EmptyJID)
		} else {
			where = "the PostgreSQL sqlstore"
			jid, counts, err = toPostgres(ctx, blob, *pgDSN)
		}
		if err == nil {
			fmt.Printf("device %s written to %s (%v)\n", jid, where, counts)
		}
	}
	if err == nil && *del {
		err = svc.DeleteSession(ctx, *tenant, *session, lease.Fence)
	}
	if rerr := svc.Release(context.Background(), *tenant, *session, holder, lease.Fence); err == nil {
		err = rerr
	}
	return err
}

// toPostgres writes the snapshot's device into whatsmeow's sqlstore on
// PostgreSQL, opened as whatsmeow's users do: database/sql with pgx.
func toPostgres(ctx context.Context, blob []byte, dsn string) (types.JID, sessionconv.Counts, error) {
	db, dialect, err := openSQLStore("", dsn)
	if err != nil {
		return types.EmptyJID, nil, err
	}
	defer db.Close()
	return sessionconv.SnapshotToSQLStore(ctx, blob, db, dialect, types.EmptyJID)
}

// importNative is the way back: a native whatsmeow's device, from its
// sqlstore on sqlite or PostgreSQL, becomes a native tenant's session,
// saved as the remote strategy's snapshot, which a page restores with
// httpRemoteStore (docs/FLEET.md). Stop the native client first.
func importNative(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	dsn := dsnFlag(fs)
	tenant := fs.String("tenant", "", "tenant name")
	session := fs.String("session", "", "session (the clientId the page will use)")
	sqlitePath := fs.String("sqlite", "", "whatsmeow's sqlstore sqlite database to read")
	pgDSN := fs.String("postgres", "", "a PostgreSQL database holding whatsmeow's sqlstore to read")
	jidFlag := fs.String("jid", "", "the device to import (default: the database's only device)")
	del := fs.Bool("delete", false, "delete the device from the sqlstore once the service holds it")
	parse(fs, args, dsn)
	if *tenant == "" || *session == "" || (*sqlitePath == "") == (*pgDSN == "") {
		fmt.Fprintln(os.Stderr, "wasmeow-sessiond import: -tenant, -session and one of -sqlite or -postgres are required")
		os.Exit(2)
	}
	jid := types.EmptyJID
	if *jidFlag != "" {
		var err error
		if jid, err = types.ParseJID(*jidFlag); err != nil {
			return fmt.Errorf("-jid %q: %w", *jidFlag, err)
		}
	}
	db, dialect, err := openSQLStore(*sqlitePath, *pgDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	blob, jid, counts, err := sessionconv.SQLStoreToSnapshot(ctx, db, dialect, jid, *session)
	if err != nil {
		return err
	}
	svc, err := sessiond.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer svc.Close()
	holder := "wasmeow-sessiond import"
	lease, err := svc.Acquire(ctx, *tenant, *session, holder, 5*time.Minute, false)
	if err != nil {
		return err
	}
	err = svc.ImportSnapshot(ctx, *tenant, *session, lease.Fence, blob)
	if rerr := svc.Release(context.Background(), *tenant, *session, holder, lease.Fence); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	fmt.Printf("device %s imported as session %s of tenant %s (%v)\n", jid, *session, *tenant, counts)
	if *del {
		if err := sessionconv.DeleteSQLStoreDevice(ctx, db, dialect, jid); err != nil {
			return fmt.Errorf("the service holds the session, but deleting device %s from the sqlstore failed (delete it before any native client runs it again): %w", jid, err)
		}
		fmt.Printf("device %s deleted from the sqlstore\n", jid)
	}
	return nil
}

// openSQLStore opens whatsmeow's sqlstore database as its users do: sqlite
// through mattn/go-sqlite3 with foreign keys on (a device's rows go with
// it), PostgreSQL through pgx.
func openSQLStore(sqlitePath, pgDSN string) (*sql.DB, string, error) {
	if pgDSN != "" {
		db, err := sql.Open("pgx", pgDSN)
		return db, "postgres", err
	}
	if _, err := os.Stat(sqlitePath); err != nil {
		return nil, "", err
	}
	u := url.URL{Scheme: "file", Opaque: sqlitePath, RawQuery: "_foreign_keys=on&_busy_timeout=5000"}
	db, err := sql.Open("sqlite3", u.String())
	return db, "sqlite3", err
}
