package idbstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"

	"go.mau.fi/util/exslices"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/wasmeow/wasmeow/kv"
)

// Contacts, with sqlstore's per-store-instance contact cache and its exact
// update rules (PutPushName and friends compare against the cache, not the
// stored record), so that results match sqlstore call for call.

type contactRecord struct {
	first, full, push, business, redacted string
}

func (r contactRecord) info() types.ContactInfo {
	return types.ContactInfo{
		Found:         true,
		FirstName:     r.first,
		FullName:      r.full,
		PushName:      r.push,
		BusinessName:  r.business,
		RedactedPhone: r.redacted,
	}
}

// Contacts are stored in contactBuckets records per device, a contact's
// bucket chosen by a hash of its JID: a contact sync of thousands then costs
// contactBuckets IndexedDB puts instead of one per contact (IndexedDB spends
// a large fraction of a millisecond per put), while a single-contact change
// rewrites only a few kilobytes. The count and the hash are part of the
// format: changing them needs a new table.
const contactBuckets = 64

// contactBucketKey is our|bucket as 2 hex digits; the 64 keys are built once
// per store (mass inserts ask for one per contact).
func (s *Store) contactBucketKey(user string) string {
	s.bucketKeysOnce.Do(func() {
		for i := range s.bucketKeys {
			s.bucketKeys[i] = s.k(fmt.Sprintf("%02x", i))
		}
	})
	h := fnv.New32a()
	_, _ = h.Write([]byte(user))
	return s.bucketKeys[h.Sum32()%contactBuckets]
}

// contactBucket is one bucket record decoded: contacts by JID text.
type contactBucket map[string]contactRecord

func (b contactBucket) encode() []byte {
	users := make([]string, 0, len(b))
	size := 0
	for u, r := range b {
		users = append(users, u)
		size += len(u) + len(r.first) + len(r.full) + len(r.push) + len(r.business) + len(r.redacted) + 6
	}
	sort.Strings(users) // the same contacts always encode the same bytes
	e := newEncoder(size + 4).uvarint(uint64(len(users)))
	for _, u := range users {
		r := b[u]
		e.str(u).str(r.first).str(r.full).str(r.push).str(r.business).str(r.redacted)
	}
	return e.done()
}

func decodeContactBucket(k string, v []byte) (contactBucket, error) {
	// One string copy of the whole record; every field is a substring of
	// it, which saves an allocation per field.
	whole := string(v)
	d := newDecoder(v)
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b))/6 { // every contact takes 6 bytes at least
		d.fail(fmt.Sprintf("contact count %d", n))
	}
	b := make(contactBucket, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		u := d.substr(whole)
		b[u] = contactRecord{first: d.substr(whole), full: d.substr(whole), push: d.substr(whole), business: d.substr(whole), redacted: d.substr(whole)}
	}
	if err := d.finish(tContact, k); err != nil {
		return nil, err
	}
	return b, nil
}

// updateContacts reads the stored records of users, lets fn change them, and
// writes the changed buckets back as one unit (sqlstore's upserts of single
// columns).
func (s *Store) updateContacts(ctx context.Context, users []types.JID, fn func(i int, r *contactRecord)) error {
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put contacts: %w", err)
	}
	if len(users) > bulkThreshold {
		// One range read beats many key reads, and GetAllContacts needs
		// the device's contacts in memory anyway.
		if err := s.e.ensureLoaded(ctx, tContact, s.all()); err != nil {
			return err
		}
	}
	texts := make([]string, len(users))
	bucketOf := make([]string, len(users))
	var ks []string
	index := make(map[string]int)
	for i, u := range users {
		texts[i] = jidText(u)
		bucketOf[i] = s.contactBucketKey(texts[i])
		if _, ok := index[bucketOf[i]]; !ok {
			index[bucketOf[i]] = len(ks)
			ks = append(ks, bucketOf[i])
		}
	}
	// The reads and the one write call need no transaction of their own:
	// the write is a single unit (or joins the caller's transaction).
	vals, err := s.e.get(ctx, s.tx(ctx), tContact, ks)
	if err != nil {
		return err
	}
	buckets := make([]contactBucket, len(ks))
	for j, v := range vals {
		if v == nil {
			buckets[j] = contactBucket{}
		} else if buckets[j], err = decodeContactBucket(ks[j], v); err != nil {
			return err
		}
	}
	for i, t := range texts {
		b := buckets[index[bucketOf[i]]]
		r := b[t]
		fn(i, &r)
		b[t] = r
	}
	ops := make([]kv.Op, len(ks))
	for j, k := range ks {
		ops[j] = kv.Op{Table: tContact, Key: k, Value: buckets[j].encode()}
	}
	return s.e.write(ctx, ops...)
}

func (s *Store) getContact(ctx context.Context, user types.JID) (*types.ContactInfo, error) {
	if cached, ok := s.contactCache[user]; ok {
		return cached, nil
	}
	text := jidText(user)
	k := s.contactBucketKey(text)
	v, err := s.get(ctx, tContact, k)
	if err != nil {
		return nil, err
	}
	info := &types.ContactInfo{}
	if v != nil {
		b, err := decodeContactBucket(k, v)
		if err != nil {
			return nil, err
		}
		if r, ok := b[text]; ok {
			*info = r.info()
		}
	}
	s.contactCache[user] = info
	return info, nil
}

func (s *Store) PutPushName(ctx context.Context, user types.JID, pushName string) (_ bool, _ string, err error) {
	defer s.c.reported(&err)
	s.contactCacheLock.Lock()
	defer s.contactCacheLock.Unlock()
	cached, err := s.getContact(ctx, user)
	if err != nil {
		return false, "", err
	}
	if cached.PushName == pushName {
		return false, "", nil
	}
	err = s.updateContacts(ctx, []types.JID{user}, func(_ int, r *contactRecord) { r.push = pushName })
	if err != nil {
		return false, "", err
	}
	previousName := cached.PushName
	cached.PushName = pushName
	cached.Found = true
	return true, previousName, nil
}

func (s *Store) PutBusinessName(ctx context.Context, user types.JID, businessName string) (_ bool, _ string, err error) {
	defer s.c.reported(&err)
	s.contactCacheLock.Lock()
	defer s.contactCacheLock.Unlock()
	cached, err := s.getContact(ctx, user)
	if err != nil {
		return false, "", err
	}
	if cached.BusinessName == businessName {
		return false, "", nil
	}
	err = s.updateContacts(ctx, []types.JID{user}, func(_ int, r *contactRecord) { r.business = businessName })
	if err != nil {
		return false, "", err
	}
	previousName := cached.BusinessName
	cached.BusinessName = businessName
	cached.Found = true
	return true, previousName, nil
}

// PutContactName stores the names positionally like sqlstore: the third
// argument is the first name, the fourth the full name (the interface's
// parameter names say the opposite; sqlstore's order is what whatsmeow uses).
func (s *Store) PutContactName(ctx context.Context, user types.JID, firstName, fullName string) (err error) {
	defer s.c.reported(&err)
	s.contactCacheLock.Lock()
	defer s.contactCacheLock.Unlock()
	cached, err := s.getContact(ctx, user)
	if err != nil {
		return err
	}
	if cached.FirstName == firstName && cached.FullName == fullName {
		return nil
	}
	err = s.updateContacts(ctx, []types.JID{user}, func(_ int, r *contactRecord) { r.first, r.full = firstName, fullName })
	if err != nil {
		return err
	}
	cached.FirstName = firstName
	cached.FullName = fullName
	cached.Found = true
	return nil
}

// PutAllContactNames stores many names in one unit; the first entry of a
// duplicated JID wins, as in sqlstore.
func (s *Store) PutAllContactNames(ctx context.Context, contacts []store.ContactEntry) (err error) {
	defer s.c.reported(&err)
	if len(contacts) == 0 {
		return nil
	}
	origLen := len(contacts)
	contacts = exslices.DeduplicateUnsortedFunc(contacts, func(t store.ContactEntry) types.JID { return t.JID })
	if origLen != len(contacts) {
		s.c.log.Warnf("%d duplicate contacts found in PutAllContactNames", origLen-len(contacts))
	}
	users := make([]types.JID, len(contacts))
	for i, c := range contacts {
		users[i] = c.JID
	}
	err = s.updateContacts(ctx, users, func(i int, r *contactRecord) {
		r.first, r.full = contacts[i].FirstName, contacts[i].FullName
	})
	if err != nil {
		return err
	}
	s.contactCacheLock.Lock()
	// Like sqlstore: just clear the cache.
	s.contactCache = make(map[types.JID]*types.ContactInfo)
	s.contactCacheLock.Unlock()
	return nil
}

func (s *Store) PutManyRedactedPhones(ctx context.Context, entries []store.RedactedPhoneEntry) (err error) {
	defer s.c.reported(&err)
	if len(entries) == 0 {
		return nil
	}
	origLen := len(entries)
	entries = exslices.DeduplicateUnsortedFunc(entries, func(t store.RedactedPhoneEntry) types.JID { return t.JID })
	if origLen != len(entries) {
		s.c.log.Warnf("%d duplicate contacts found in PutManyRedactedPhones", origLen-len(entries))
	}
	users := make([]types.JID, len(entries))
	for i, e := range entries {
		users[i] = e.JID
	}
	err = s.updateContacts(ctx, users, func(i int, r *contactRecord) { r.redacted = entries[i].RedactedPhone })
	if err != nil {
		return err
	}
	s.contactCacheLock.Lock()
	for _, entry := range entries {
		if cached, ok := s.contactCache[entry.JID]; ok && cached.RedactedPhone == entry.RedactedPhone {
			continue
		}
		delete(s.contactCache, entry.JID)
	}
	s.contactCacheLock.Unlock()
	return nil
}

func (s *Store) GetContact(ctx context.Context, user types.JID) (_ types.ContactInfo, err error) {
	defer s.c.reported(&err)
	s.contactCacheLock.Lock()
	info, err := s.getContact(ctx, user)
	s.contactCacheLock.Unlock()
	if err != nil {
		return types.ContactInfo{}, err
	}
	return *info, nil
}

func (s *Store) GetAllContacts(ctx context.Context) (_ map[types.JID]types.ContactInfo, err error) {
	defer s.c.reported(&err)
	s.contactCacheLock.Lock()
	defer s.contactCacheLock.Unlock()
	pairs, err := s.e.scan(ctx, s.tx(ctx), tContact, s.all(), true)
	if err != nil {
		return nil, err
	}
	output := make(map[types.JID]types.ContactInfo, len(pairs))
	for _, p := range pairs {
		b, err := decodeContactBucket(p.Key, p.Value)
		if err != nil {
			return nil, err
		}
		for text, r := range b {
			jid, err := types.ParseJID(text)
			if err != nil {
				return nil, fmt.Errorf("error scanning row: %w", err)
			}
			info := r.info()
			output[jid] = info
			s.contactCache[jid] = &info
		}
	}
	return output, nil
}
