//go:build js

package jskv

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"syscall/js"

	"github.com/wasmeow/wasmeow/jsbridge"
)

// A table's id list is split across idBuckets records of IDsType, id
// "<table>/<2 hex digits>" (the bucket of an id: the low byte of its
// FNV-1a hash), so that a commit rewrites only the few small buckets its
// ids fall in. One list per table grew without bound (whatsmeow never
// deletes message secrets, one per message) and cost its whole size on
// every commit, until a document limit (MongoDB's 16 MB) broke every
// commit. Listing a table reads all its buckets in one keys.get.
//
// The first form, one sorted array under id "<table>", is still read; the
// first commit that touches such a table writes its buckets and deletes
// the old record in the same keys.set (that layout was never released).
const idBuckets = 256

func bucketOf(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%02x", byte(h.Sum32()))
}

func bucketID(table, bucket string) string { return table + "/" + bucket }

// tableIDs is what the store lists of one table.
type tableIDs struct {
	buckets map[string][]string // bucket -> its sorted ids; none: empty
	legacy  bool                // the store holds the first form's record
	sorted  []string            // all ids, sorted; nil: not computed
}

func (t *tableIDs) all() []string {
	if t.sorted == nil {
		t.sorted = []string{}
		for _, ids := range t.buckets {
			t.sorted = append(t.sorted, ids...)
		}
		slices.Sort(t.sorted)
	}
	return t.sorted
}

// loadTable reads the id list of table (cached): its buckets and the first
// form's record, in one keys.get.
func (s *Baileys) loadTable(ctx context.Context, table string) (*tableIDs, error) {
	if t, ok := s.index[table]; ok {
		return t, nil
	}
	want := make([]string, 0, idBuckets+1)
	want = append(want, table)
	for b := range idBuckets {
		want = append(want, bucketID(table, fmt.Sprintf("%02x", b)))
	}
	found, err := s.get(ctx, IDsType, want)
	if err != nil {
		return nil, err
	}
	t := &tableIDs{buckets: map[string][]string{}}
	for _, id := range want {
		raw, ok := found[id]
		if !ok {
			continue
		}
		var ids []string
		if err := json.Unmarshal(raw, &ids); err != nil {
			return nil, fmt.Errorf("keystore: the ids of table %s (%s/%s) are not a JSON array of strings: %w", table, IDsType, id, err)
		}
		t.legacy = t.legacy || id == table
		for _, x := range ids {
			b := bucketOf(x)
			if !slices.Contains(t.buckets[b], x) {
				t.buckets[b] = append(t.buckets[b], x)
			}
		}
	}
	for _, ids := range t.buckets {
		slices.Sort(ids)
	}
	s.index[table] = t
	return t, nil
}

func (s *Baileys) loadIndex(ctx context.Context, table string) ([]string, error) {
	t, err := s.loadTable(ctx, table)
	if err != nil {
		return nil, err
	}
	return t.all(), nil
}

// idChanges is a commit's edit of one table's id list.
type idChanges struct {
	table   string
	t       *tableIDs
	touched map[string]map[string]bool // bucket -> its ids after the commit
}

func (s *Baileys) editIDs(ctx context.Context, table string) (*idChanges, error) {
	t, err := s.loadTable(ctx, table)
	if err != nil {
		return nil, err
	}
	return &idChanges{table: table, t: t, touched: map[string]map[string]bool{}}, nil
}

func (c *idChanges) bucket(id string) map[string]bool {
	b := bucketOf(id)
	set, ok := c.touched[b]
	if !ok {
		set = map[string]bool{}
		for _, x := range c.t.buckets[b] {
			set[x] = true
		}
		c.touched[b] = set
	}
	return set
}

func (c *idChanges) add(id string)    { c.bucket(id)[id] = true }
func (c *idChanges) remove(id string) { delete(c.bucket(id), id) }

// write puts into idsObj() (the IDsType part of a keys.set) the buckets whose
// lists change (null for one left empty) and, for a table still in the
// first form, every bucket and the old record's deletion. It returns what
// to apply to the cache once the store took the write.
func (c *idChanges) write(idsPart func() js.Value) (apply func()) {
	next := map[string][]string{}
	for b, set := range c.touched {
		ids := make([]string, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, c.t.buckets[b]) {
			next[b] = ids
		}
	}
	if len(next) == 0 && !c.t.legacy {
		return func() {}
	}
	idsObj := idsPart()
	put := func(b string, ids []string) {
		if len(ids) == 0 {
			idsObj.Set(bucketID(c.table, b), js.Null())
		} else {
			idsObj.Set(bucketID(c.table, b), jsbridge.ValueOf(ids))
		}
	}
	if c.t.legacy {
		for b, ids := range c.t.buckets {
			if _, ok := next[b]; !ok {
				put(b, ids)
			}
		}
		idsObj.Set(c.table, js.Null())
	}
	for b, ids := range next {
		put(b, ids)
	}
	return func() {
		for b, ids := range next {
			if len(ids) == 0 {
				delete(c.t.buckets, b)
			} else {
				c.t.buckets[b] = ids
			}
		}
		c.t.legacy, c.t.sorted = false, nil
	}
}

// clearIDs puts into idsObj the deletion of every id list record of t.
func clearIDs(idsObj js.Value, table string, t *tableIDs) {
	for b := range t.buckets {
		idsObj.Set(bucketID(table, b), js.Null())
	}
	if t.legacy {
		idsObj.Set(table, js.Null())
	}
}
