package sessiond

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Tenant modes: what the service may see of a tenant's sessions.
const (
	// ModeNative keeps the values as the page wrote them, so that the
	// session can be converted for a native whatsmeow (docs/FLEET.md).
	ModeNative = "native"
	// ModeE2E takes only values the page sealed (web/wasmeow.js's
	// encryption option): the service and its database hold ciphertext.
	ModeE2E = "e2e"
)

// Tenant is who a bearer token stands for.
type Tenant struct {
	Name string
	Mode string
}

var tenantNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// AddTenant creates a tenant and returns its bearer token, which is shown
// once: the database keeps only its SHA-256.
func (s *Service) AddTenant(ctx context.Context, name, mode string) (string, error) {
	if !tenantNamePattern.MatchString(name) {
		return "", fmt.Errorf("tenant name %q: use 1 to 64 letters, digits, _ or -", name)
	}
	if mode != ModeNative && mode != ModeE2E {
		return "", fmt.Errorf("tenant mode %q: must be %s or %s", mode, ModeNative, ModeE2E)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := "wmt_" + base64.RawURLEncoding.EncodeToString(raw)
	_, err := s.pool.Exec(ctx, `INSERT INTO sessiond_tenants (name, token_sha256, mode) VALUES ($1, $2, $3)`, name, tokenHash(token), mode)
	if err != nil {
		return "", fmt.Errorf("adding tenant %q: %w", name, err)
	}
	return token, nil
}

// authenticate maps the request's bearer token to its tenant.
func (s *Service) authenticate(ctx context.Context, r *http.Request) (Tenant, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return Tenant{}, apiErr(http.StatusUnauthorized, CodeUnauthorized, "send the tenant's token as Authorization: Bearer <token>")
	}
	var t Tenant
	err := s.pool.QueryRow(ctx, `SELECT name, mode FROM sessiond_tenants WHERE token_sha256 = $1`, tokenHash(token)).Scan(&t.Name, &t.Mode)
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, apiErr(http.StatusUnauthorized, CodeUnauthorized, "unknown token")
	}
	return t, err
}
