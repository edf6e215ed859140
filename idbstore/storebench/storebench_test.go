package storebench_test

import (
	"context"
	"testing"

	"github.com/wasmeow/wasmeow/idbstore"
	"github.com/wasmeow/wasmeow/idbstore/storebench"
	"github.com/wasmeow/wasmeow/idbstore/tracetest"
	"github.com/wasmeow/wasmeow/kv"
	"github.com/wasmeow/wasmeow/kv/memkv"
)

type keepOpen struct{ kv.Backend }

func (keepOpen) Close() error { return nil }

func memOpener(tb testing.TB) tracetest.Opener {
	mem := memkv.New()
	tb.Cleanup(func() { mem.Close() })
	return func(ctx context.Context) (tracetest.Container, error) {
		return idbstore.New(ctx, keepOpen{mem}, nil)
	}
}

// Every workload runs twice (the second time on top of the first's data) on
// idbstore over memory and leaves what it promised, also after a reopen.
func TestWorkloadsOnIDBStoreMemKV(t *testing.T) {
	checkWorkloads(t, func(t *testing.T) tracetest.Opener { return memOpener(t) })
}

func checkWorkloads(t *testing.T, newOpener func(t *testing.T) tracetest.Opener) {
	ctx := context.Background()
	for _, w := range storebench.Workloads {
		t.Run(w.Name, func(t *testing.T) {
			tg, err := storebench.NewTarget(ctx, newOpener(t))
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			st := &storebench.State{}
			if w.Setup != nil {
				if err := w.Setup(ctx, tg, st); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 2; i++ {
				st.Iter = i
				if err := w.Run(ctx, tg, st); err != nil {
					t.Fatalf("iteration %d: %v", i, err)
				}
			}
			if err := tg.Reopen(ctx); err != nil {
				t.Fatal(err)
			}
			d := tg.Device
			switch w.Name {
			case "prekeys-812":
				n, err := d.PreKeys.UploadedPreKeyCount(ctx)
				if err != nil || n != 2*812 {
					t.Fatalf("uploaded prekeys after reopen: %d, %v; want %d", n, err, 2*812)
				}
			case "contacts-5000":
				all, err := d.Contacts.GetAllContacts(ctx)
				if err != nil || len(all) != 5000 {
					t.Fatalf("contacts after reopen: %d, %v", len(all), err)
				}
			case "appstate-macs-5000":
				v, _, err := d.AppState.GetAppStateVersion(ctx, "regular_high")
				if err != nil || v != 2 {
					t.Fatalf("app state version after reopen: %d, %v", v, err)
				}
			case "decrypt-1000", "decrypt-1000-each-durable":
				s, err := d.Sessions.GetSession(ctx, st.Addrs[0])
				if err != nil || len(s) != 1024 {
					t.Fatalf("session after reopen: %d bytes, %v", len(s), err)
				}
			}
		})
	}
}

func BenchmarkStoresMemKV(b *testing.B) {
	storebench.Run(b, func(b *testing.B) tracetest.Opener { return memOpener(b) })
}
