// Package passkey registers and checks passkeys (WebAuthn credentials) for
// patients and staff, on top of github.com/go-webauthn/webauthn.
//
// It keeps what fse needs in plain types: the options sent to the browser
// and the ceremony's state are JSON bytes (the state goes in the person's
// server-side session), and a credential is stored as JSON bytes beside its
// id. Every ceremony requires user verification (a PIN, a fingerprint, the
// phone's unlock), so a passkey is a whole second factor by itself and can
// replace the password.
package passkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Timeout is how long the browser and the server wait for a ceremony.
const Timeout = 3 * time.Minute

// ErrRefused means the browser's answer did not prove possession of a
// registered passkey (wrong origin, stale challenge, bad signature, unknown
// or foreign credential, no user verification).
var ErrRefused = errors.New("passkey refused")

// Service runs the ceremonies for one relying party: the portal's host.
type Service struct {
	wa *webauthn.WebAuthn
}

// New configures the relying party from the portal's public address
// (its host is the RP ID, its origin the only accepted origin).
func New(baseURL, displayName string) (*Service, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("passkeys: base URL %q is not an http(s) address", baseURL)
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: displayName,
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: Timeout},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: Timeout},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return &Service{wa: wa}, nil
}

// User is the person registering or logging in with a passkey.
type User struct {
	// Handle is the stable, opaque user handle (at most 64 bytes) the
	// authenticator stores with a discoverable credential.
	Handle []byte
	// Name and Display are what the authenticator shows to tell accounts
	// apart.
	Name, Display string
	// Credentials are the person's registered passkeys, as Stored.
	Credentials [][]byte
}

// webUser adapts User to webauthn.User.
type webUser struct {
	u     User
	creds []webauthn.Credential
}

func (w webUser) WebAuthnID() []byte                         { return w.u.Handle }
func (w webUser) WebAuthnName() string                       { return w.u.Name }
func (w webUser) WebAuthnDisplayName() string                { return w.u.Display }
func (w webUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func adapt(u User) (webUser, error) {
	w := webUser{u: u}
	for _, raw := range u.Credentials {
		var c webauthn.Credential
		if err := json.Unmarshal(raw, &c); err != nil {
			return w, fmt.Errorf("passkeys: stored credential: %w", err)
		}
		w.creds = append(w.creds, c)
	}
	return w, nil
}

// Credential is a passkey as fse stores it.
type Credential struct {
	// ID is the credential's id, unique across the portal.
	ID []byte
	// Stored is the whole credential record (public key, counter, flags)
	// as JSON; nothing in it is secret.
	Stored []byte
	// CloneWarning is true when the authenticator's signature counter went
	// backwards: two copies of a key that should be unique may exist.
	CloneWarning bool
}

func stored(c *webauthn.Credential) (Credential, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return Credential{}, fmt.Errorf("passkeys: %w", err)
	}
	return Credential{ID: c.ID, Stored: b, CloneWarning: c.Authenticator.CloneWarning}, nil
}

// BeginRegistration starts adding a passkey for u: the options for the
// browser's navigator.credentials.create (JSON) and the state to keep in
// the session until FinishRegistration. The passkey is discoverable (it can
// log in without a username) and the person's existing passkeys are
// excluded, so the same authenticator is not registered twice.
func (s *Service) BeginRegistration(u User) (options, state []byte, err error) {
	w, err := adapt(u)
	if err != nil {
		return nil, nil, err
	}
	creation, session, err := s.wa.BeginRegistration(w,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		}),
		webauthn.WithExclusions(webauthn.Credentials(w.creds).CredentialDescriptors()),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("passkeys: begin registration: %w", err)
	}
	return marshalPair(creation, session)
}

// FinishRegistration checks the browser's answer (the JSON of the
// PublicKeyCredential) against the state kept by BeginRegistration.
func (s *Service) FinishRegistration(u User, state, answer []byte) (Credential, error) {
	w, err := adapt(u)
	if err != nil {
		return Credential{}, err
	}
	session, err := unmarshalState(state)
	if err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(answer)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	c, err := s.wa.CreateCredential(w, session, parsed)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if !c.Flags.UserVerified {
		return Credential{}, fmt.Errorf("%w: the authenticator did not verify the user", ErrRefused)
	}
	return stored(c)
}

// BeginLogin starts a login: with u nil, a passwordless login where the
// browser offers the passkeys it holds for the portal; otherwise a second
// step for u, limited to u's passkeys.
func (s *Service) BeginLogin(u *User) (options, state []byte, err error) {
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)
	var (
		assertion *protocol.CredentialAssertion
		session   *webauthn.SessionData
	)
	if u == nil {
		assertion, session, err = s.wa.BeginDiscoverableLogin(uv)
	} else {
		w, aerr := adapt(*u)
		if aerr != nil {
			return nil, nil, aerr
		}
		assertion, session, err = s.wa.BeginLogin(w, uv)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("passkeys: begin login: %w", err)
	}
	return marshalPair(assertion, session)
}

// Lookup finds the person owning a credential id, and checks the user
// handle the authenticator returned is theirs. It returns an error wrapping
// ErrRefused for an unknown credential or a handle that does not match.
type Lookup func(credentialID, handle []byte) (User, error)

// FinishLogin checks the browser's answer against the state kept by
// BeginLogin. For a passwordless login, lookup finds the owner; for a
// second step, the owner is u (lookup is not used). It returns the owner
// and the credential with its updated counter, to store.
func (s *Service) FinishLogin(u *User, state, answer []byte, lookup Lookup) (User, Credential, error) {
	session, err := unmarshalState(state)
	if err != nil {
		return User{}, Credential{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return User{}, Credential{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	var (
		owner User
		c     *webauthn.Credential
	)
	if u == nil {
		var found webauthn.User
		found, c, err = s.wa.ValidatePasskeyLogin(func(rawID, handle []byte) (webauthn.User, error) {
			o, err := lookup(rawID, handle)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(o.Handle, handle) {
				return nil, fmt.Errorf("%w: user handle does not match the credential", ErrRefused)
			}
			return adapt(o)
		}, session, parsed)
		if err == nil {
			owner = found.(webUser).u
		}
	} else {
		var w webUser
		if w, err = adapt(*u); err == nil {
			c, err = s.wa.ValidateLogin(w, session, parsed)
			owner = *u
		}
	}
	if err != nil {
		return User{}, Credential{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		return User{}, Credential{}, fmt.Errorf("%w: the authenticator did not verify the user", ErrRefused)
	}
	cred, err := stored(c)
	return owner, cred, err
}

func marshalPair(options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("passkeys: %w", err)
	}
	st, err := json.Marshal(session)
	if err != nil {
		return nil, nil, fmt.Errorf("passkeys: %w", err)
	}
	return o, st, nil
}

func unmarshalState(state []byte) (webauthn.SessionData, error) {
	var session webauthn.SessionData
	if len(state) == 0 {
		return session, fmt.Errorf("%w: no ceremony was started in this session", ErrRefused)
	}
	if err := json.Unmarshal(state, &session); err != nil {
		return session, fmt.Errorf("%w: ceremony state: %v", ErrRefused, err)
	}
	return session, nil
}
