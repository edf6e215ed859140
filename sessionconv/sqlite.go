//go:build !js

package sessionconv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // sqlstore's sqlite driver, as whatsmeow's users open it
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/wasmeow/wasmeow/idbstore"
)

// storeDB is a whatsmeow sqlstore database (sqlite or PostgreSQL): the sqlstore
// container (the store interfaces) and its sql.DB (to list what the
// interfaces cannot).
type storeDB struct {
	db        *sql.DB
	container *sqlstore.Container
}

func openSQLite(ctx context.Context, path, params string) (*storeDB, error) {
	u := url.URL{Scheme: "file", Opaque: path, RawQuery: "_foreign_keys=on&_busy_timeout=5000" + params}
	db, err := sql.Open("sqlite3", u.String())
	if err != nil {
		return nil, err
	}
	c := sqlstore.NewWithDB(db, "sqlite3", waLog.Noop)
	// Creates the schema of a new file, brings an older one up to date.
	if err := c.Upgrade(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrSQLite, path, err)
	}
	return &storeDB{db: db, container: c}, nil
}

func (s *storeDB) Close() error { return s.container.Close() }

// copySQLite copies the database at path into dir with VACUUM INTO: one
// consistent copy (WAL included) read with the source opened read-only, so
// the user's file is never written, not even by a schema upgrade.
func copySQLite(ctx context.Context, path, dir string) (string, error) {
	if st, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: %v", ErrSQLite, err)
	} else if st.IsDir() {
		return "", fmt.Errorf("%w: %s is a directory", ErrSQLite, path)
	}
	u := url.URL{Scheme: "file", Opaque: path, RawQuery: "mode=ro&_busy_timeout=5000"}
	src, err := sql.Open("sqlite3", u.String())
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrSQLite, path, err)
	}
	defer src.Close()
	var tables int
	if err := src.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name='whatsmeow_device'").Scan(&tables); err != nil {
		return "", fmt.Errorf("%w: %s: reading it: %v", ErrSQLite, path, err)
	} else if tables == 0 {
		return "", fmt.Errorf("%w: %s holds no whatsmeow tables", ErrSQLite, path)
	}
	dst := filepath.Join(dir, "copy.db")
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return "", fmt.Errorf("%w: %s: reading it: %v", ErrSQLite, path, err)
	}
	return dst, nil
}

// snapshot reads device jid (the only device when jid is empty) as a
// wasmeow session snapshot named clientID.
func (s *storeDB) snapshot(ctx context.Context, jid types.JID, clientID string) ([]byte, types.JID, Counts, error) {
	jid, err := s.pickDevice(ctx, jid)
	if err != nil {
		return nil, jid, nil, err
	}
	rows, err := s.readRows(ctx, jid)
	if err != nil {
		return nil, jid, nil, err
	}
	blob, err := writeSnapshot(ctx, rows, clientID)
	if err != nil {
		return nil, jid, nil, fmt.Errorf("building the snapshot of %s: %w", jid, err)
	}
	return blob, jid, countRows(rows), nil
}

// pickDevice returns jid, or the database's only device when jid is empty.
func (s *storeDB) pickDevice(ctx context.Context, jid types.JID) (types.JID, error) {
	all, err := s.container.GetAllDevices(ctx)
	if err != nil {
		return jid, fmt.Errorf("%w: listing devices: %v", ErrSQLite, err)
	}
	var ids []types.JID
	for _, d := range all {
		ids = append(ids, *d.ID)
	}
	return chooseDevice(ids, jid)
}

// readRows reads every record of device jid: the device through sqlstore,
// each table with one query (sqlstore's interfaces cannot list them).
func (s *storeDB) readRows(ctx context.Context, jid types.JID) (*idbstore.DeviceRows, error) {
	dev, err := s.container.GetDevice(ctx, jid)
	if err != nil {
		return nil, fmt.Errorf("%w: reading device %s: %v", ErrSQLite, jid, err)
	}
	if dev == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoDevice, jid)
	}
	our := jid.String()
	r := &idbstore.DeviceRows{Device: dev}
	q := func(table, query string, scan func(*sql.Rows) error, args ...any) error {
		rows, err := s.db.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("%w: reading %s: %v", ErrSQLite, table, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("%w: reading %s: %v", ErrSQLite, table, err)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%w: reading %s: %v", ErrSQLite, table, err)
		}
		return nil
	}
	queries := []struct {
		table, query string
		scan         func(*sql.Rows) error
	}{
		{"whatsmeow_identity_keys", "SELECT their_id, identity FROM whatsmeow_identity_keys WHERE our_jid=$1", func(rs *sql.Rows) error {
			var row idbstore.IdentityRow
			var key []byte
			if err := rs.Scan(&row.Address, &key); err != nil {
				return err
			}
			if len(key) != 32 {
				return fmt.Errorf("identity of %s is %d bytes", row.Address, len(key))
			}
			row.Key = [32]byte(key)
			r.Identities = append(r.Identities, row)
			return nil
		}},
		{"whatsmeow_sessions", "SELECT their_id, session FROM whatsmeow_sessions WHERE our_jid=$1", func(rs *sql.Rows) error {
			var row idbstore.SessionRow
			err := rs.Scan(&row.Address, &row.Session)
			r.Sessions = append(r.Sessions, row)
			return err
		}},
		{"whatsmeow_pre_keys", "SELECT key_id, key, uploaded FROM whatsmeow_pre_keys WHERE jid=$1 ORDER BY key_id", func(rs *sql.Rows) error {
			var id uint32
			var priv []byte
			var uploaded bool
			if err := rs.Scan(&id, &priv, &uploaded); err != nil {
				return err
			}
			if len(priv) != 32 {
				return fmt.Errorf("prekey %d is %d bytes", id, len(priv))
			}
			kp := keys.NewKeyPairFromPrivateKey([32]byte(priv))
			r.PreKeys = append(r.PreKeys, idbstore.PreKeyRow{Key: keys.PreKey{KeyPair: *kp, KeyID: id}, Uploaded: uploaded})
			return nil
		}},
		{"whatsmeow_sender_keys", "SELECT chat_id, sender_id, sender_key FROM whatsmeow_sender_keys WHERE our_jid=$1", func(rs *sql.Rows) error {
			var row idbstore.SenderKeyRow
			err := rs.Scan(&row.Chat, &row.Sender, &row.Key)
			r.SenderKeys = append(r.SenderKeys, row)
			return err
		}},
		{"whatsmeow_app_state_sync_keys", "SELECT key_id, key_data, timestamp, fingerprint FROM whatsmeow_app_state_sync_keys WHERE jid=$1", func(rs *sql.Rows) error {
			var row idbstore.AppStateSyncKeyRow
			err := rs.Scan(&row.ID, &row.Key.Data, &row.Key.Timestamp, &row.Key.Fingerprint)
			r.AppStateSyncKeys = append(r.AppStateSyncKeys, row)
			return err
		}},
		{"whatsmeow_app_state_version", "SELECT name, version, hash FROM whatsmeow_app_state_version WHERE jid=$1", func(rs *sql.Rows) error {
			var row idbstore.AppStateVersionRow
			var hash []byte
			if err := rs.Scan(&row.Name, &row.Version, &hash); err != nil {
				return err
			}
			if len(hash) != 128 {
				return fmt.Errorf("hash of %s is %d bytes", row.Name, len(hash))
			}
			row.Hash = [128]byte(hash)
			r.AppStateVersions = append(r.AppStateVersions, row)
			return nil
		}},
		{"whatsmeow_app_state_mutation_macs", "SELECT name, version, index_mac, value_mac FROM whatsmeow_app_state_mutation_macs WHERE jid=$1 ORDER BY name, version", func(rs *sql.Rows) error {
			var row idbstore.AppStateMACRow
			err := rs.Scan(&row.Name, &row.Version, &row.IndexMAC, &row.ValueMAC)
			r.AppStateMACs = append(r.AppStateMACs, row)
			return err
		}},
		{"whatsmeow_contacts", "SELECT their_jid, COALESCE(first_name, ''), COALESCE(full_name, ''), COALESCE(push_name, ''), COALESCE(business_name, ''), COALESCE(redacted_phone, '') FROM whatsmeow_contacts WHERE our_jid=$1", func(rs *sql.Rows) error {
			var c idbstore.ContactRow
			err := rs.Scan(&c.JID, &c.FirstName, &c.FullName, &c.PushName, &c.BusinessName, &c.RedactedPhone)
			r.Contacts = append(r.Contacts, c)
			return err
		}},
		{"whatsmeow_chat_settings", "SELECT chat_jid, muted_until, pinned, archived FROM whatsmeow_chat_settings WHERE our_jid=$1", func(rs *sql.Rows) error {
			var row idbstore.ChatSettingsRow
			err := rs.Scan(&row.Chat, &row.MutedUntil, &row.Pinned, &row.Archived)
			r.ChatSettings = append(r.ChatSettings, row)
			return err
		}},
		{"whatsmeow_message_secrets", "SELECT chat_jid, sender_jid, message_id, key FROM whatsmeow_message_secrets WHERE our_jid=$1", func(rs *sql.Rows) error {
			var row idbstore.MessageSecretRow
			err := rs.Scan(&row.Chat, &row.Sender, &row.ID, &row.Secret)
			r.MessageSecrets = append(r.MessageSecrets, row)
			return err
		}},
		{"whatsmeow_privacy_tokens", "SELECT their_jid, token, timestamp FROM whatsmeow_privacy_tokens WHERE our_jid=$1", func(rs *sql.Rows) error {
			var row idbstore.PrivacyTokenRow
			err := rs.Scan(&row.User, &row.Token, &row.Timestamp)
			r.PrivacyTokens = append(r.PrivacyTokens, row)
			return err
		}},
		{"whatsmeow_event_buffer", "SELECT ciphertext_hash, plaintext, server_timestamp, insert_timestamp FROM whatsmeow_event_buffer WHERE our_jid=$1", func(rs *sql.Rows) error {
			var row idbstore.BufferedEventRow
			var hash []byte
			if err := rs.Scan(&hash, &row.Plaintext, &row.ServerTimestamp, &row.InsertTimeMS); err != nil {
				return err
			}
			if len(hash) != 32 {
				return fmt.Errorf("ciphertext hash is %d bytes", len(hash))
			}
			row.Hash = [32]byte(hash)
			r.BufferedEvents = append(r.BufferedEvents, row)
			return nil
		}},
		{"whatsmeow_lid_map", "SELECT lid, pn FROM whatsmeow_lid_map", func(rs *sql.Rows) error {
			var row idbstore.LIDMappingRow
			err := rs.Scan(&row.LID, &row.PN)
			r.LIDMappings = append(r.LIDMappings, row)
			return err
		}},
	}
	for _, qq := range queries {
		args := []any{our}
		if qq.table == "whatsmeow_lid_map" { // container-wide: no our_jid column
			args = nil
		}
		if err := q(qq.table, qq.query, qq.scan, args...); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// sqlRaw writes what sqlstore's interfaces cannot write as stored: prekeys
// with their uploaded flags, buffered events with their insert times. The
// statements are sqlstore's own inserts, valid on sqlite and PostgreSQL.
type sqlRaw struct{ db *sql.DB }

func (w sqlRaw) putPreKeys(ctx context.Context, our string, rows []idbstore.PreKeyRow) error {
	return w.inTx(ctx, func(tx *sql.Tx) error {
		for _, p := range rows {
			if _, err := tx.ExecContext(ctx, "INSERT INTO whatsmeow_pre_keys (jid, key_id, key, uploaded) VALUES ($1, $2, $3, $4)",
				our, p.Key.KeyID, p.Key.Priv[:], p.Uploaded); err != nil {
				return fmt.Errorf("prekey %d: %w", p.Key.KeyID, err)
			}
		}
		return nil
	})
}

func (w sqlRaw) putBufferedEvents(ctx context.Context, our string, rows []idbstore.BufferedEventRow) error {
	return w.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range rows {
			if _, err := tx.ExecContext(ctx, "INSERT INTO whatsmeow_event_buffer (our_jid, ciphertext_hash, plaintext, server_timestamp, insert_timestamp) VALUES ($1, $2, $3, $4, $5)",
				our, e.Hash[:], e.Plaintext, e.ServerTimestamp, e.InsertTimeMS); err != nil {
				return fmt.Errorf("buffered event %x: %w", e.Hash, err)
			}
		}
		return nil
	})
}

func (w sqlRaw) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}
