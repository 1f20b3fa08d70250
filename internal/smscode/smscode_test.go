package smscode_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fse/db"
	"fse/internal/locale"
	"fse/internal/notify"
	"fse/internal/smscode"
	"fse/internal/testkit"
)

// gateway is the fake SMS gateway: it records messages, or fails.
type gateway struct {
	mu   sync.Mutex
	sent []notify.Message
	fail bool
}

func (g *gateway) Send(_ context.Context, m notify.Message) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail {
		return errors.New("gateway down")
	}
	g.sent = append(g.sent, m)
	return nil
}

func (g *gateway) messages() []notify.Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]notify.Message(nil), g.sent...)
}

type world struct {
	svc   *smscode.Service
	gw    *gateway
	clock *testkit.Clock
	logs  *testkit.LogBuffer
}

func newWorld(t *testing.T) world {
	t.Helper()
	w := world{gw: &gateway{}, clock: testkit.NewClock(testkit.T0), logs: &testkit.LogBuffer{}}
	w.svc = &smscode.Service{DB: testkit.OpenDB(t), Keys: testkit.Keys(t), SMS: w.gw, Log: w.logs.Logger(), Now: w.clock.Now}
	return w
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// code returns the code in the last SMS sent.
func (w world) code(t *testing.T) string {
	t.Helper()
	ms := w.gw.messages()
	if len(ms) == 0 {
		t.Fatal("no SMS sent")
	}
	c := sixDigits.FindString(ms[len(ms)-1].Body)
	if c == "" {
		t.Fatalf("no code in %q", ms[len(ms)-1].Body)
	}
	return c
}

const mobile = "+393331234567"

func TestIssuedCodeChecksOnceWithinItsLifetime(t *testing.T) {
	ctx := context.Background()
	for _, purpose := range []string{db.OTPRegister, db.OTPLogin, db.OTPReset, db.OTPContact} {
		t.Run(purpose, func(t *testing.T) {
			w := newWorld(t)
			id, err := w.svc.Issue(ctx, purpose, mobile, 0, smscode.SendNow, locale.Italian)
			if err != nil {
				t.Fatal(err)
			}
			code := w.code(t)
			if ms := w.gw.messages(); ms[0].To != mobile || !strings.Contains(ms[0].Body, "Scade tra") {
				t.Errorf("SMS = %+v", ms[0])
			}
			// Spaces and dashes typed by the patient do not matter.
			typed := code[:3] + " - " + code[3:]
			if _, err := w.svc.Verify(ctx, id, purpose, typed); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if _, err := w.svc.Check(ctx, id, purpose, typed); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if _, err := w.svc.Check(ctx, id, purpose, typed); !errors.Is(err, db.ErrOTPUsed) {
				t.Errorf("second Check = %v, want ErrOTPUsed", err)
			}

			id, _ = w.svc.Issue(ctx, purpose, mobile, 0, smscode.SendNow, locale.Italian)
			code = w.code(t)
			w.clock.Advance(smscode.TTL(purpose))
			if _, err := w.svc.Check(ctx, id, purpose, code); !errors.Is(err, db.ErrOTPExpired) {
				t.Errorf("Check after %v = %v, want ErrOTPExpired", smscode.TTL(purpose), err)
			}
		})
	}
	if smscode.TTL(db.OTPReset) != 15*time.Minute || smscode.TTL(db.OTPLogin) != 10*time.Minute {
		t.Error("lifetimes changed: reset codes live 15 minutes, the others 10")
	}
}

func TestCodesOfOnePurposeDoNotCheckForAnother(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id, _ := w.svc.Issue(ctx, db.OTPRegister, mobile, 0, smscode.SendNow, locale.Italian)
	if _, err := w.svc.Check(ctx, id, db.OTPReset, w.code(t)); err == nil {
		t.Error("a registration code passed as a reset code")
	}
}

func TestFiveWrongCodesVoidTheCode(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id, _ := w.svc.Issue(ctx, db.OTPLogin, mobile, 0, smscode.SendNow, locale.Italian)
	right := w.code(t)
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	for i := 1; i < db.OTPMaxAttempts; i++ {
		if _, err := w.svc.Check(ctx, id, db.OTPLogin, wrong); !errors.Is(err, db.ErrOTPWrong) {
			t.Fatalf("wrong code %d: %v, want ErrOTPWrong", i, err)
		}
	}
	if _, err := w.svc.Check(ctx, id, db.OTPLogin, wrong); !errors.Is(err, db.ErrOTPExhausted) {
		t.Errorf("wrong code %d: want ErrOTPExhausted", db.OTPMaxAttempts)
	}
	if _, err := w.svc.Check(ctx, id, db.OTPLogin, right); !errors.Is(err, db.ErrOTPExhausted) {
		t.Errorf("right code after the limit: %v, want ErrOTPExhausted", err)
	}
}

func TestSendBudgets(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	issue := func(purpose string) error {
		_, err := w.svc.Issue(ctx, purpose, mobile, 0, smscode.SendNow, locale.Italian)
		return err
	}
	// Three in 15 minutes, whatever stranger-triggered purpose asks.
	for _, p := range []string{db.OTPRegister, db.OTPReset, db.OTPContact} {
		if err := issue(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	var lim smscode.LimitError
	if err := issue(db.OTPRegister); !errors.As(err, &lim) || !lim.Next.Equal(testkit.T0.Add(smscode.SendWindow)) {
		t.Fatalf("fourth code in 15 minutes = %v, want a LimitError until %v", err, testkit.T0.Add(smscode.SendWindow))
	}
	// Login codes, which need the password first, have their own budget.
	if err := issue(db.OTPLogin); err != nil {
		t.Errorf("login code while the other budget is spent: %v", err)
	}
	// Ten a day: the window moves on, the daily cap does not.
	for sent := 3; sent < smscode.DailyLimit; {
		w.clock.Advance(smscode.SendWindow)
		for i := 0; i < smscode.SendLimit && sent < smscode.DailyLimit; i++ {
			if err := issue(db.OTPReset); err != nil {
				t.Fatalf("code %d of the day: %v", sent+1, err)
			}
			sent++
		}
	}
	w.clock.Advance(smscode.SendWindow)
	if err := issue(db.OTPReset); !errors.As(err, &lim) || !lim.Next.Equal(testkit.T0.Add(smscode.DailyWindow)) {
		t.Errorf("code 11 of the day = %v, want a LimitError until a day after the first", err)
	}
	if got := len(w.gw.messages()); got != smscode.DailyLimit+1 {
		t.Errorf("%d SMS sent, want %d (10 plus the login code)", got, smscode.DailyLimit+1)
	}
}

func TestSendModes(t *testing.T) {
	ctx := context.Background()
	t.Run("nothing", func(t *testing.T) {
		w := newWorld(t)
		id, err := w.svc.Issue(ctx, db.OTPRegister, mobile, 0, smscode.SendNothing, locale.Italian)
		if err != nil || id == 0 {
			t.Fatalf("Issue = %d, %v", id, err)
		}
		w.svc.Wait()
		if n := len(w.gw.messages()); n != 0 {
			t.Errorf("%d SMS sent for SendNothing", n)
		}
	})
	t.Run("neutral sends in the background", func(t *testing.T) {
		w := newWorld(t)
		w.gw.fail = true
		if _, err := w.svc.Issue(ctx, db.OTPReset, mobile, 0, smscode.SendNeutral, locale.Italian); err != nil {
			t.Errorf("SendNeutral with a failing gateway = %v, want the same answer as when it works", err)
		}
		w.svc.Wait()
		if !strings.Contains(w.logs.String(), "send sms code") {
			t.Error("the background failure was not logged")
		}
	})
	t.Run("now reports the gateway's failure", func(t *testing.T) {
		w := newWorld(t)
		w.gw.fail = true
		if _, err := w.svc.Issue(ctx, db.OTPLogin, mobile, 0, smscode.SendNow, locale.Italian); !errors.Is(err, smscode.ErrUnavailable) {
			t.Errorf("SendNow with a failing gateway = %v, want ErrUnavailable", err)
		}
	})
	t.Run("no gateway", func(t *testing.T) {
		w := newWorld(t)
		w.svc.SMS = nil
		for _, m := range []smscode.Mode{smscode.SendNow, smscode.SendNeutral, smscode.SendNothing} {
			if _, err := w.svc.Issue(ctx, db.OTPRegister, mobile, 0, m, locale.Italian); !errors.Is(err, smscode.ErrUnavailable) {
				t.Errorf("mode %d without a gateway = %v, want ErrUnavailable whatever the mode", m, err)
			}
		}
	})
}

func TestCodesAndNumbersNeverLogged(t *testing.T) {
	w := newWorld(t)
	w.gw.fail = true
	ctx := context.Background()
	w.svc.Issue(ctx, db.OTPLogin, mobile, 0, smscode.SendNow, locale.Italian)
	w.svc.Issue(ctx, db.OTPReset, mobile, 0, smscode.SendNeutral, locale.Italian)
	w.svc.Wait()
	logs := w.logs.String()
	if sixDigits.MatchString(logs) || strings.Contains(logs, "3331234567") {
		t.Errorf("log holds a code or the number:\n%s", logs)
	}
}

// TestCodeTextSpeaksLei: the SMS with a code says "Lei", as every patient
// message does, and how long the code lasts.
func TestCodeTextSpeaksLei(t *testing.T) {
	text := smscode.Text(locale.For(locale.Italian), "123456", db.OTPRegister)
	for _, tu := range []string{"comunicarlo", " tuo", " ti "} {
		if strings.Contains(text, tu) {
			t.Errorf("code SMS %q says %q", text, tu)
		}
	}
	if !strings.Contains(text, "Non lo comunichi a nessuno") || !strings.Contains(text, "10 minuti") {
		t.Errorf("code SMS %q", text)
	}
}

// TestCodeTextSpeaksThePatientsLanguage: an English patient's code comes
// in English, with the code, its lifetime and the warning, and still fits
// one SMS.
func TestCodeTextSpeaksThePatientsLanguage(t *testing.T) {
	text := smscode.Text(locale.For(locale.English), "123456", db.OTPReset)
	for _, want := range []string{"123456", "15 minutes", "Do not share it"} {
		if !strings.Contains(text, want) {
			t.Errorf("English code SMS %q lacks %q", text, want)
		}
	}
	for _, it := range []string{"codice", "minuti", "comunichi"} {
		if strings.Contains(text, it) {
			t.Errorf("English code SMS %q says %q", text, it)
		}
	}
	if len(text) > 160 {
		t.Errorf("English code SMS is %d characters, more than one SMS", len(text))
	}
}

// TestIssueSendsTheCodeInTheGivenLanguage: the language Issue is given is
// the one of the SMS the gateway receives.
func TestIssueSendsTheCodeInTheGivenLanguage(t *testing.T) {
	w := newWorld(t)
	if _, err := w.svc.Issue(context.Background(), db.OTPRegister, mobile, 0, smscode.SendNow, locale.English); err != nil {
		t.Fatal(err)
	}
	sent := w.gw.messages()
	if len(sent) != 1 || !strings.Contains(sent[0].Body, "verification code") {
		t.Fatalf("sent %+v, want one English code", sent)
	}
}
