package idbstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/kv"
)

// The layout: which tables exist and how their keys and values are encoded.
// Its version is stored in the backend (table layout, key "version"), and
// New brings an older layout up to date with numbered steps over the
// kv.Backend, as sqlstore's upgrades do for its schema. A backend without a
// layout record is at version 0: anything written before layouts were
// versioned, or nothing at all.
//
// Append only, never edit a released step: users' browsers (and snapshots
// in their remote stores) hold data at every earlier version. Each step's
// writes and the new version commit as one unit, so a step interrupted (a
// closed tab) runs again in full at the next open.
const (
	tLayout   = "layout"  // "version" -> the layout version of every other table
	layoutKey = "version" // the one record of tLayout
)

// Tables of earlier layouts, read (and emptied) by the upgrade steps. The
// object stores stay in the IndexedDB databases that have them; new
// databases never get them (idbkv reads a missing table as empty).
const (
	// our|their jid -> names: one record per contact, before commit ff5192e
	// put contacts in 64 buckets per device (tContact).
	tLegacyContact = "contact"
)

var legacyTables = []string{tLegacyContact}

// BackendTables are the tables a backend must be able to write for
// idbstore: Tables and the layout record. The IndexedDB opener creates one
// object store for each.
var BackendTables = append(slices.Clone(Tables), tLayout)

// DumpTables are the tables a dump of a backend (a session snapshot) holds
// or may hold: BackendTables and the tables of earlier layouts, which a
// snapshot taken before an upgrade carries and the upgrade migrates once
// restored. Capture and decode snapshots with it.
var DumpTables = append(slices.Clone(BackendTables), legacyTables...)

// upgrades[i] takes a backend from layout version i to i+1: it returns the
// writes that do so (the version record is added to them).
var upgrades = []struct {
	name string
	run  func(ctx context.Context, b kv.Backend) ([]kv.Op, error)
}{
	{"contacts of the per-contact table (before ff5192e) into their buckets", upgradeLegacyContacts},
	// Step 1 has nothing to do for the other layout change before versions:
	// prekeys written before the upload mark (dba4452) carry their own
	// uploaded flag, which today's reader still honours (a key is uploaded
	// when its flag or the mark says so; GenOnePreKey still sets the flag).
}

// LayoutVersion is the layout this build writes.
var LayoutVersion = len(upgrades)

// ErrNewerLayout is returned by New for a backend a newer wasmeow wrote:
// this build does not touch it.
var ErrNewerLayout = errors.New("idbstore: the store's layout is newer than this build knows")

func layoutOp(version int) kv.Op {
	return kv.Op{Table: tLayout, Key: layoutKey, Value: newEncoder(4).uvarint(uint64(version)).done()}
}

func decodeLayout(k string, v []byte) (int, error) {
	d := newDecoder(v)
	n := d.uvarint()
	if d.err == nil && n > 1<<20 {
		d.fail("layout version")
	}
	return int(n), d.finish(tLayout, k)
}

// readLayout returns the stored layout version, 0 without a record.
func readLayout(ctx context.Context, b kv.Backend) (int, error) {
	vals, err := b.Get(ctx, tLayout, []string{layoutKey})
	if err != nil {
		return 0, fmt.Errorf("idbstore: reading the layout version: %w", err)
	}
	if vals[0] == nil {
		return 0, nil
	}
	return decodeLayout(layoutKey, vals[0])
}

// upgrade runs every step from the stored layout version on, each as one
// commit with its new version. When no step had anything to write (a new
// store, or one whose data no step changes), nothing is written now: the
// returned record of the current version goes with the container's first
// commit, so opening a store never writes by itself.
func upgrade(ctx context.Context, b kv.Backend, log waLog.Logger) (stamp []kv.Op, err error) {
	defer func() {
		if r := recover(); r != nil {
			stamp, err = nil, fmt.Errorf("idbstore: layout upgrade: backend panicked: %v", r)
		}
	}()
	from, err := readLayout(ctx, b)
	if err != nil {
		return nil, err
	}
	if from > len(upgrades) {
		return nil, fmt.Errorf("%w: version %d, this build knows %d; refusing to touch data a newer wasmeow wrote", ErrNewerLayout, from, len(upgrades))
	}
	wrote := false
	for i := from; i < len(upgrades); i++ {
		ops, err := upgrades[i].run(ctx, b)
		if err != nil {
			return nil, fmt.Errorf("idbstore: layout upgrade %d (%s): %w", i+1, upgrades[i].name, err)
		}
		if len(ops) == 0 && !wrote {
			continue
		}
		if err := b.Commit(ctx, append(ops, layoutOp(i+1))); err != nil {
			return nil, fmt.Errorf("idbstore: layout upgrade %d (%s): committing %d writes: %w", i+1, upgrades[i].name, len(ops)+1, err)
		}
		wrote = true
		log.Infof("Upgraded the store's layout to version %d: %s (%d writes)", i+1, upgrades[i].name, len(ops))
	}
	if from < len(upgrades) && !wrote {
		return []kv.Op{layoutOp(len(upgrades))}, nil
	}
	return nil, nil
}

// decodeLegacyContact reads a record of tLegacyContact: the five names.
func decodeLegacyContact(k string, v []byte) (contactRecord, error) {
	d := newDecoder(v)
	r := contactRecord{first: d.str(), full: d.str(), push: d.str(), business: d.str(), redacted: d.str()}
	return r, d.finish(tLegacyContact, k)
}

// contactBucketKeyOf is the bucket key of user's contact record on device
// our (Store.contactBucketKey, without the store's cache of keys).
func contactBucketKeyOf(our, user string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(user))
	return key(our, fmt.Sprintf("%02x", h.Sum32()%contactBuckets))
}

// upgradeLegacyContacts moves every record of the per-contact table into
// its bucket and deletes it. A contact the bucket already holds was written
// by a build that did not see the old record: its names win field by field,
// the old record fills only the fields it left empty.
func upgradeLegacyContacts(ctx context.Context, b kv.Backend) ([]kv.Op, error) {
	old, err := b.Scan(ctx, tLegacyContact, "")
	if err != nil || len(old) == 0 {
		return nil, err
	}
	type legacy struct {
		user string
		rec  contactRecord
	}
	byBucket := map[string][]legacy{}
	var bucketKeys []string
	var ops []kv.Op
	for _, p := range old {
		parts, err := splitKey(p.Key)
		if err != nil || len(parts) != 2 {
			return nil, decodeError(tLegacyContact, p.Key, fmt.Errorf("%w: key is not our device and a contact", errCorrupt))
		}
		r, err := decodeLegacyContact(p.Key, p.Value)
		if err != nil {
			return nil, err
		}
		bk := contactBucketKeyOf(parts[0], parts[1])
		if _, ok := byBucket[bk]; !ok {
			bucketKeys = append(bucketKeys, bk)
		}
		byBucket[bk] = append(byBucket[bk], legacy{parts[1], r})
		ops = append(ops, kv.Op{Table: tLegacyContact, Key: p.Key, Delete: true})
	}
	slices.Sort(bucketKeys)
	vals, err := b.Get(ctx, tContact, bucketKeys)
	if err != nil {
		return nil, err
	}
	for i, bk := range bucketKeys {
		bucket := contactBucket{}
		if vals[i] != nil {
			if bucket, err = decodeContactBucket(bk, vals[i]); err != nil {
				return nil, err
			}
		}
		for _, l := range byBucket[bk] {
			bucket[l.user] = mergeContact(bucket[l.user], l.rec)
		}
		ops = append(ops, kv.Op{Table: tContact, Key: bk, Value: bucket.encode()})
	}
	return ops, nil
}

// mergeContact is cur with its empty fields taken from old.
func mergeContact(cur, old contactRecord) contactRecord {
	for _, f := range []struct {
		cur *string
		old string
	}{
		{&cur.first, old.first}, {&cur.full, old.full}, {&cur.push, old.push},
		{&cur.business, old.business}, {&cur.redacted, old.redacted},
	} {
		if *f.cur == "" {
			*f.cur = f.old
		}
	}
	return cur
}

// HasDevice reports whether b holds a device record: a paired session, or
// one being paired.
func HasDevice(ctx context.Context, b kv.Backend) (bool, error) {
	have, err := b.Scan(ctx, tDevice, "")
	return len(have) > 0, err
}

// DumpHasDevice is HasDevice for a dump of a backend (table -> records), e.g.
// a snapshot.
func DumpHasDevice(dump map[string][]kv.Pair) bool {
	return len(dump[tDevice]) > 0
}

// PrepareRestore readies a dump for restoring onto a backend: a dump
// without a layout record was taken before layouts were versioned, so it
// gets the record of version 0, overwriting whatever version the backend
// holds, and the next New upgrades what it restored.
func PrepareRestore(dump map[string][]kv.Pair) {
	if len(dump[tLayout]) == 0 {
		op := layoutOp(0)
		dump[tLayout] = []kv.Pair{{Key: op.Key, Value: op.Value}}
	}
}
