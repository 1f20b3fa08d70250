package passkey_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"fse/internal/passkey"
	"fse/internal/passkey/passkeytest"
)

const portal = "https://referti.example.it"

func newService(t *testing.T) *passkey.Service {
	t.Helper()
	s, err := passkey.New(portal, "Referti online")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// register adds a passkey of u on auth and returns it.
func register(t *testing.T, s *passkey.Service, auth *passkeytest.Authenticator, u passkey.User) passkey.Credential {
	t.Helper()
	options, state, err := s.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := auth.Create(options)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.FinishRegistration(u, state, answer)
	if err != nil {
		t.Fatalf("finish registration: %v", err)
	}
	return c
}

func TestPasskeyRegistersAndLogsInWithoutAUsername(t *testing.T) {
	s := newService(t)
	auth := passkeytest.New(portal)
	mario := passkey.User{Handle: []byte("handle-of-mario"), Name: "mario@example.it", Display: "Mario Rossi"}
	c := register(t, s, auth, mario)
	if len(c.ID) == 0 || len(c.Stored) == 0 {
		t.Fatalf("credential %+v lacks its id or record", c)
	}
	mario.Credentials = [][]byte{c.Stored}

	options, state, err := s.BeginLogin(nil)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := auth.Get(options)
	if err != nil {
		t.Fatal(err)
	}
	lookups := 0
	owner, used, err := s.FinishLogin(nil, state, answer, func(id, handle []byte) (passkey.User, error) {
		lookups++
		if !bytes.Equal(id, c.ID) {
			return passkey.User{}, fmt.Errorf("%w: unknown credential", passkey.ErrRefused)
		}
		return mario, nil
	})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if lookups != 1 || owner.Name != mario.Name || !bytes.Equal(used.ID, c.ID) {
		t.Fatalf("login found %+v with %d lookups", owner, lookups)
	}
	if bytes.Equal(used.Stored, c.Stored) {
		t.Error("the stored record did not take the new signature counter")
	}

	// The same answer replayed (the server keeps a ceremony's state for one
	// answer only; if it ever did not, the counter gives the replay away).
	mario.Credentials = [][]byte{used.Stored}
	_, again, err := s.FinishLogin(nil, state, answer, func(id, handle []byte) (passkey.User, error) { return mario, nil })
	if err == nil && !again.CloneWarning {
		t.Error("a replayed answer was accepted without a clone warning")
	}
}

func TestPasskeyRefusals(t *testing.T) {
	s := newService(t)
	mario := passkey.User{Handle: []byte("handle-of-mario"), Name: "mario", Display: "Mario"}
	auth := passkeytest.New(portal)
	c := register(t, s, auth, mario)
	mario.Credentials = [][]byte{c.Stored}
	lookup := func(id, handle []byte) (passkey.User, error) {
		if !bytes.Equal(id, c.ID) {
			return passkey.User{}, fmt.Errorf("%w: unknown credential", passkey.ErrRefused)
		}
		return mario, nil
	}

	cases := []struct {
		name  string
		setup func() (*passkeytest.Authenticator, []byte, []byte)
	}{
		{"another site's page", func() (*passkeytest.Authenticator, []byte, []byte) {
			options, state, _ := s.BeginLogin(nil)
			other := *auth
			other.Origin = "https://referti.example.it.evil.example"
			return &other, options, state
		}},
		{"no user verification", func() (*passkeytest.Authenticator, []byte, []byte) {
			options, state, _ := s.BeginLogin(nil)
			lazy := *auth
			lazy.SkipUserVerification = true
			return &lazy, options, state
		}},
		{"no ceremony started", func() (*passkeytest.Authenticator, []byte, []byte) {
			options, _, _ := s.BeginLogin(nil)
			return auth, options, nil
		}},
		{"a ceremony of another session", func() (*passkeytest.Authenticator, []byte, []byte) {
			options, _, _ := s.BeginLogin(nil)
			_, otherState, _ := s.BeginLogin(nil)
			return auth, options, otherState
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, options, state := tc.setup()
			answer, err := a.Get(options)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.FinishLogin(nil, state, answer, lookup); !errors.Is(err, passkey.ErrRefused) {
				t.Fatalf("login: %v, want ErrRefused", err)
			}
		})
	}

	t.Run("a passkey of someone else as a second step", func(t *testing.T) {
		luigi := passkey.User{Handle: []byte("handle-of-luigi"), Name: "luigi", Display: "Luigi"}
		theirs := passkeytest.New(portal)
		lc := register(t, s, theirs, luigi)
		luigi.Credentials = [][]byte{lc.Stored}
		options, state, err := s.BeginLogin(&luigi)
		if err != nil {
			t.Fatal(err)
		}
		// Mario's authenticator has nothing for Luigi's allow list.
		if _, err := auth.Get(options); err == nil {
			t.Fatal("Mario's authenticator answered for Luigi's passkeys")
		}
		answer, err := theirs.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.FinishLogin(&mario, state, answer, nil); !errors.Is(err, passkey.ErrRefused) {
			t.Fatalf("Luigi's answer as Mario's second step: %v, want ErrRefused", err)
		}
		if owner, _, err := s.FinishLogin(&luigi, state, answer, nil); err != nil || owner.Name != "luigi" {
			t.Fatalf("Luigi's own second step: %+v, %v", owner, err)
		}
	})

	t.Run("a handle that does not match the credential", func(t *testing.T) {
		options, state, _ := s.BeginLogin(nil)
		answer, _ := auth.Get(options)
		impostor := mario
		impostor.Handle = []byte("handle-of-someone-else")
		_, _, err := s.FinishLogin(nil, state, answer, func(id, handle []byte) (passkey.User, error) { return impostor, nil })
		if !errors.Is(err, passkey.ErrRefused) {
			t.Fatalf("login: %v, want ErrRefused", err)
		}
	})

	t.Run("registering the same authenticator twice", func(t *testing.T) {
		options, _, err := s.BeginRegistration(mario)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := auth.Create(options); err == nil {
			t.Fatal("the authenticator registered a second passkey for the same account")
		}
	})
}

func TestNewRefusesABaseURLWithoutHost(t *testing.T) {
	for _, u := range []string{"", "referti.example.it", "ftp://referti.example.it"} {
		if _, err := passkey.New(u, "x"); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
