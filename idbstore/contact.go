package idbstore

import (
	"context"
	"fmt"

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

func (r contactRecord) encode() []byte {
	return newEncoder(64).str(r.first).str(r.full).str(r.push).str(r.business).str(r.redacted).done()
}

func decodeContact(k string, v []byte) (contactRecord, error) {
	d := newDecoder(v)
	r := contactRecord{first: d.str(), full: d.str(), push: d.str(), business: d.str(), redacted: d.str()}
	return r, d.finish(tContact, k)
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

func (s *Store) contactKey(user types.JID) string { return s.k(jidText(user)) }

// updateContacts reads the stored records of users, lets fn change them, and
// writes them back as one unit (sqlstore's upserts of single columns).
func (s *Store) updateContacts(ctx context.Context, users []types.JID, fn func(i int, r *contactRecord)) error {
	if err := s.c.requireDevice(ctx, s.JID); err != nil {
		return fmt.Errorf("idbstore: put contacts: %w", err)
	}
	ks := make([]string, len(users))
	for i, u := range users {
		ks[i] = s.contactKey(u)
	}
	if len(users) > bulkThreshold {
		// One range read beats thousands of key reads (IndexedDB answers
		// getAll far faster than as many gets), and GetAllContacts needs
		// the device's contacts in memory anyway.
		if err := s.e.ensureLoaded(ctx, tContact, s.all()); err != nil {
			return err
		}
	}
	// The reads and the one write call need no transaction of their own:
	// the write is a single unit (or joins the caller's transaction), and
	// skipping the overlay matters for batches of thousands.
	vals, err := s.e.get(ctx, s.tx(ctx), tContact, ks)
	if err != nil {
		return err
	}
	ops := make([]kv.Op, len(users))
	for i, v := range vals {
		var r contactRecord
		if v != nil {
			if r, err = decodeContact(ks[i], v); err != nil {
				return err
			}
		}
		fn(i, &r)
		ops[i] = kv.Op{Table: tContact, Key: ks[i], Value: r.encode()}
	}
	return s.e.write(ctx, ops...)
}

func (s *Store) getContact(ctx context.Context, user types.JID) (*types.ContactInfo, error) {
	if cached, ok := s.contactCache[user]; ok {
		return cached, nil
	}
	k := s.contactKey(user)
	v, err := s.get(ctx, tContact, k)
	if err != nil {
		return nil, err
	}
	info := &types.ContactInfo{}
	if v != nil {
		r, err := decodeContact(k, v)
		if err != nil {
			return nil, err
		}
		*info = r.info()
	}
	s.contactCache[user] = info
	return info, nil
}

func (s *Store) PutPushName(ctx context.Context, user types.JID, pushName string) (bool, string, error) {
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

func (s *Store) PutBusinessName(ctx context.Context, user types.JID, businessName string) (bool, string, error) {
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
func (s *Store) PutContactName(ctx context.Context, user types.JID, firstName, fullName string) error {
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
func (s *Store) PutAllContactNames(ctx context.Context, contacts []store.ContactEntry) error {
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
	err := s.updateContacts(ctx, users, func(i int, r *contactRecord) {
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

func (s *Store) PutManyRedactedPhones(ctx context.Context, entries []store.RedactedPhoneEntry) error {
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
	err := s.updateContacts(ctx, users, func(i int, r *contactRecord) { r.redacted = entries[i].RedactedPhone })
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

func (s *Store) GetContact(ctx context.Context, user types.JID) (types.ContactInfo, error) {
	s.contactCacheLock.Lock()
	info, err := s.getContact(ctx, user)
	s.contactCacheLock.Unlock()
	if err != nil {
		return types.ContactInfo{}, err
	}
	return *info, nil
}

func (s *Store) GetAllContacts(ctx context.Context) (map[types.JID]types.ContactInfo, error) {
	s.contactCacheLock.Lock()
	defer s.contactCacheLock.Unlock()
	pairs, err := s.e.scan(ctx, s.tx(ctx), tContact, s.all(), true)
	if err != nil {
		return nil, err
	}
	output := make(map[types.JID]types.ContactInfo, len(pairs))
	for _, p := range pairs {
		jidText, err := lastComponent(p.Key, s.all())
		if err != nil {
			return nil, decodeError(tContact, p.Key, err)
		}
		jid, err := types.ParseJID(jidText)
		if err != nil {
			return nil, fmt.Errorf("error scanning row: %w", err)
		}
		r, err := decodeContact(p.Key, p.Value)
		if err != nil {
			return nil, err
		}
		info := r.info()
		output[jid] = info
		s.contactCache[jid] = &info
	}
	return output, nil
}
