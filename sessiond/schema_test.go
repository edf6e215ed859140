package sessiond

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Services starting together on a new database: the upgrade lock lets one
// apply each step, the others find it done; no lock outlives them.
func TestSchemaUpgradesStartingTogether(t *testing.T) {
	s := openService(t)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `CREATE DATABASE upgrade_race`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			pool, err := pgxpool.New(ctx, testDSN+" dbname=upgrade_race")
			if err == nil {
				defer pool.Close()
				err = Upgrade(ctx, pool)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pool, err := pgxpool.New(ctx, testDSN+" dbname=upgrade_race")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var versions, version, locks int
	if err := pool.QueryRow(ctx, `SELECT count(*), max(version) FROM sessiond_version`).Scan(&versions, &version); err != nil || versions != 1 || version != SchemaVersion {
		t.Fatalf("sessiond_version: %d rows, version %d (%v)", versions, version, err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'`).Scan(&locks); err != nil || locks != 0 {
		t.Fatalf("%d advisory locks left (%v)", locks, err)
	}
}
